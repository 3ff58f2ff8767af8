"""hems-appliances: household appliances as hems consumption kinds.

A third-party hems driver, written only against the public driver API
(``hems.sdk``): a dishwasher, a washing machine and a refrigerator, each with the
power profile of a real machine, run at the household's usual times or on the
user's schedule.
"""
