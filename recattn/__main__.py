from recattn.cli import main

raise SystemExit(main())
