from convlint.cli import main

raise SystemExit(main())
