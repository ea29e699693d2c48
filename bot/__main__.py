from bot.cli import main

if __name__ == "__main__":  # not when a child process (the index builder) imports it
    raise SystemExit(main())
