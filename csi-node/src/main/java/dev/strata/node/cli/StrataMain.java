package dev.strata.node.cli;

import java.io.PrintStream;
import java.util.Set;

/** The {@code strata} command line. */
public final class StrataMain {
    private StrataMain() {}

    static final String USAGE = """
            usage: strata COMMAND [options]

              serve      serve a volume over NBD (see README.md)
              demo       write, SIGKILL, reopen, verify, print figures (embedded store)
                           --dir DIR (default ./strata-data)  --seconds N (default 4)
              volume     create | list | inspect volumes
              test       install what the tests need and run them (handled by ./strata)
              help       this text
            """;

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        String cmd = argv.length == 0 ? "help" : argv[0];
        try {
            return switch (cmd) {
                case "demo" -> DemoCommand.run(new Args(argv, 1, Set.of("dir", "seconds"), Set.of()), out);
                case "demo-writer" -> DemoCommand.writer(new Args(argv, 1, Set.of("dir", "volume"), Set.of()), out);
                case "help", "--help", "-h" -> {
                    out.print(USAGE);
                    yield 0;
                }
                default -> throw new Args.UsageException("unknown command '" + cmd + "'");
            };
        } catch (Args.UsageException e) {
            err.println("strata: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Exception e) {
            err.println("strata " + cmd + ": " + e.getMessage());
            return 1;
        }
    }
}
