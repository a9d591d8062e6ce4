"""`python -m aspider`: the same as the `aspider` command."""

from aspider.cli import main

main()
