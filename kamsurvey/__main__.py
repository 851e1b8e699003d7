"""`python -m kamsurvey ...` is `kam ...`."""

import sys

from kamsurvey.cli import main

sys.exit(main())
