package dev.strata.node.cli;

import java.io.PrintStream;
import java.util.Set;

/** The {@code strata} command line. */
public final class StrataMain {
    private StrataMain() {}

    static final String USAGE = """
            usage: strata COMMAND [options]

              serve      serve a volume over NBD until Ctrl-C / SIGTERM
                           --dir DIR (default ./strata-data: bucket, journal, socket)
                           --volume NAME (vol0)  --size SIZE (4GiB, at creation only)
                           --socket PATH (DIR/NAME.sock)  --listen HOST:PORT (TCP too)
                           --control PATH (DIR/node/control/NAME.sock: snapshots, flush, status)
                           --no-socket  --take-over  --flush-mode journal|bucket
                           --coalescer SIZE|off (sequential write coalescer cluster)
                           --large-write-bypass SIZE|off (aligned writes >= SIZE skip the journal)
                           --cache-size SIZE|off (the node's read cache on DIR's disk; 1GiB)
                           --cache-direct-io auto|on|off (read cache files with O_DIRECT; auto)
                           S3 instead of DIR/bucket: --s3-bucket B [--s3-endpoint URL]
                           [--s3-region R] [--s3-prefix P] [--s3-path-style]
                           [--s3-credentials-file F]  (or keys in --config FILE);
                           credentials from the environment (AWS_ACCESS_KEY_ID, ...)
              demo       write, SIGKILL, reopen, verify, print figures (embedded store)
                           --dir DIR (default ./strata-data)  --seconds N (default 4)
              volume     create NAME --size SIZE | list | inspect NAME | delete NAME  (same store flags)
                         clone --from VOLUME@SNAPSHOT --volume NEW
              snapshot   create|delete --volume NAME --name SNAP | list --volume NAME
                           (same store flags; docs/snapshots-and-clones.md); create and delete go
                           through the serve holding NAME on this node if one runs [--control PATH]
              control    status|flush --volume NAME  ask the serve holding NAME (docs/control.md)
                           (same --dir or --control as that serve)
              test       install what the tests need and run them (handled by ./strata)
              help       this text
            """;

    public static void main(String[] argv) {
        // One line per log record, before anything creates a logger.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
        }
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        String cmd = argv.length == 0 ? "help" : argv[0];
        try {
            return switch (cmd) {
                case "serve" -> ServeCommand.run(new Args(argv, 1, ServeCommand.FLAGS, ServeCommand.SWITCHES), out);
                case "volume" -> VolumeCommand.run(argv, out, err);
                case "snapshot" -> SnapshotCommand.run(argv, out, err);
                case "control" -> ControlCommand.run(argv, out, err);
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
