"""``python -m stackkit.cli``: the ``stackkit`` command, without the console script."""

from . import main

raise SystemExit(main())
