from soniquebay.cli import main

raise SystemExit(main())
