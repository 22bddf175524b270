package dev.strata.node.cli;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.node.control.ControlProtocol;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code strata control status|flush|gc --volume V}: asks the serve that holds {@code V} on this
 * node, through its control socket (docs/control.md). Fails if no serve answers.
 */
final class ControlCommand {
    private ControlCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        if (argv.length < 2) {
            throw new Args.UsageException("control: status, flush or gc");
        }
        String verb = switch (argv[1]) {
            case "status" -> ControlProtocol.STATUS;
            case "flush" -> ControlProtocol.FLUSH;
            case "gc" -> ControlProtocol.GC;
            default -> throw new Args.UsageException("control: unknown subcommand '" + argv[1] + "'");
        };
        Set<String> flags = new HashSet<>(StoreSettings.FLAGS);
        flags.add("volume");
        flags.add("control");
        Args args = new Args(argv, 2, flags, StoreSettings.SWITCHES);
        StoreSettings where = StoreSettings.from(args);
        String volume = args.get("volume", "vol0");
        try {
            VolumeKeys.validateName(volume);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--volume: " + e.getMessage());
        }
        Map<String, String> f = SnapshotCommand.throughServe(where, volume, verb, null, err);
        if (f == null) {
            throw new java.io.IOException("no serve of volume " + volume + " answers on control socket "
                    + where.controlSocket(volume) + " (is it running on this node, with the same --dir or --control?)");
        }
        if (verb.equals(ControlProtocol.FLUSH)) {
            out.println("flushed volume " + f.get("volume") + " to the bucket (" + f.get("millis") + " ms)");
        } else {
            for (Map.Entry<String, String> e : f.entrySet()) {
                out.printf("%-18s %s%n", e.getKey(), e.getValue());
            }
        }
        return 0;
    }
}
