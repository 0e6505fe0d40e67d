"""``python -m deepnet_gpu``: the ``deepnet`` command."""

import sys

from .cli import main

sys.exit(main())
