import sys

from suite.flake.cli import main

sys.exit(main())
