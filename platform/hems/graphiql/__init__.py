"""GraphiQL served from hems's own static files (no CDN), and the page a browser gets
at ``/graphql/`` when GraphiQL is off."""
