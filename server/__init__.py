"""Assembly of Storecast: settings, wiring, auth, the app factory, the CLI and the worker."""
