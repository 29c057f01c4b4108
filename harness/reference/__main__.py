"""``python -m harness.reference``: the reference SCU's command line (see
:func:`harness.reference.client.main`)."""

import sys

from harness.reference.client import main

sys.exit(main())
