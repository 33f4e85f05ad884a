from breachops.cli import main

main()
