"""What every web area shares: the request's unit of work, sign-in and visit sessions, languages,
error pages, security headers and form plumbing. Blueprints import from here, never each other."""
