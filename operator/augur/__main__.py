import sys

from augur.cli.main import main

sys.exit(main())
