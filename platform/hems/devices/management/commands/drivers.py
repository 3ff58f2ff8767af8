"""``manage.py drivers``: the discovered drivers, their kinds, and any that failed."""

import json

from django.core.management.base import BaseCommand

from hems.plugins import registry


class Command(BaseCommand):
    help = "List the discovered hems drivers: name, version, module, status and device kinds."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args, **options):
        drivers = sorted(registry().drivers.values(), key=lambda d: d.name)
        rows = [
            {
                "name": d.name,
                "version": d.version,
                "module": d.module,
                "status": d.status,
                "reason": d.reason,
                "kinds": [{"key": k.key, "label": k.label, "device_type": str(k.device_type)} for k in d.kinds],
            }
            for d in drivers
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        header = ("DRIVER", "VERSION", "MODULE", "STATUS", "KINDS")
        table = [
            (
                r["name"],
                r["version"],
                r["module"],
                r["status"],
                ", ".join(f"{k['key']} ({k['device_type']})" for k in r["kinds"]) or r["reason"],
            )
            for r in rows
        ]
        widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(4)]
        for row in [header, *table]:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
            line = "  ".join([*cells, row[4]])
            style = self.style.ERROR if row[3] == "broken" else (self.style.WARNING if row[3] == "disabled" else str)
            self.stdout.write(style(line) if row is not header else self.style.MIGRATE_HEADING(line))
        loaded = [r for r in rows if r["status"] == "loaded"]
        kinds = sum(len(r["kinds"]) for r in loaded)
        self.stdout.write(f"\n{len(loaded)} driver(s) loaded, {kinds} device kind(s).")
