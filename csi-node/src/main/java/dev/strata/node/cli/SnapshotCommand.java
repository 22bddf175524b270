package dev.strata.node.cli;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.volume.SnapshotRecord;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeLockedException;
import dev.strata.node.control.ControlClient;
import dev.strata.node.control.ControlProtocol;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code strata snapshot create|list|delete}: what the CSI controller will call.
 *
 * <p>{@code create} and {@code delete} first ask the {@code serve} that holds the volume on this
 * node, through its control socket (the same {@code --dir} gives the same path, or
 * {@code --control PATH}): that process owns the journal, so the snapshot holds every write it
 * acknowledged before the request. With no serve answering, they run here, directly on the
 * engine. A volume held by a serve on another node is refused with the holder's name.
 * docs/control.md.
 */
final class SnapshotCommand {
    private SnapshotCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        if (argv.length < 2) {
            throw new Args.UsageException("snapshot: create, list or delete");
        }
        Set<String> flags = new HashSet<>(StoreSettings.FLAGS);
        flags.add("volume");
        flags.add("name");
        flags.add("control");
        Args args = new Args(argv, 2, flags, StoreSettings.SWITCHES);
        StoreSettings where = StoreSettings.from(args);
        String volume = required(args, "volume");
        switch (argv[1]) {
            case "create" -> {
                String name = snapshotName(args);
                Map<String, String> f = throughServe(where, volume, ControlProtocol.SNAPSHOT_CREATE, name, err);
                if (f != null) {
                    out.println("created snapshot " + f.get("volume") + "@" + f.get("snapshot") + " (objects up to "
                            + f.get("object-seq") + ") through serve at " + where.controlSocket(volume));
                    return 0;
                }
                try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
                    SnapshotRecord r;
                    try {
                        r = engine.createSnapshot(volume, name);
                    } catch (VolumeLockedException e) {
                        throw held(e, where, volume);
                    }
                    out.println("created snapshot " + r.volume() + "@" + r.snapshot() + " (objects up to " + r.objectSeq() + ")");
                }
            }
            case "list" -> {
                try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
                    for (SnapshotRecord r : engine.listSnapshots(volume)) {
                        out.printf("%-32s objects up to %-8d created %s  clones %s%n", r.snapshot(), r.objectSeq(), r.created(),
                                engine.clonesOf(volume, r.snapshot()));
                    }
                }
            }
            case "delete" -> {
                String name = snapshotName(args);
                Map<String, String> f = throughServe(where, volume, ControlProtocol.SNAPSHOT_DELETE, name, err);
                java.util.List<String> keepers;
                if (f == null) {
                    // Deleting a snapshot touches only its record, map and marker in the bucket, never the
                    // journal: it is safe here whoever holds the volume.
                    try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
                        keepers = engine.deleteSnapshot(volume, name);
                    }
                } else {
                    String kept = f.get("kept-for");
                    keepers = kept == null || kept.isEmpty() ? java.util.List.of() : java.util.List.of(kept.split(","));
                }
                String via = f != null ? " through serve at " + where.controlSocket(volume) : "";
                if (keepers.isEmpty()) {
                    out.println("deleted snapshot " + volume + "@" + name + via
                            + " (garbage collection in the volume's writer frees what only it kept)");
                } else {
                    // docs/snapshots-and-clones.md, "Deleting while clones read".
                    out.println("deleted snapshot " + volume + "@" + name + via + ": hidden now; kept in the bucket (name"
                            + " reserved) while clone(s) " + keepers + " read through it, removed when the last of them is deleted");
                }
            }
            default -> throw new Args.UsageException("snapshot: unknown subcommand '" + argv[1] + "'");
        }
        return 0;
    }

    /**
     * Sends the request to the serve holding {@code volume} on this node, if one answers at its
     * control socket; null if none does (no socket, or a stale one left by a serve that died).
     */
    static Map<String, String> throughServe(StoreSettings where, String volume, String verb, String snapshot,
            PrintStream err) throws IOException {
        Path socket = where.controlSocket(volume);
        ProgressPrinter progress = new ProgressPrinter(err, verb, "");
        try (ControlClient c = ControlClient.connect(socket)) {
            if (c == null) {
                if (ControlClient.presence(socket) == ControlClient.Presence.STALE) {
                    err.println("note: nothing listens on control socket " + socket + " (the serve that made it is gone);"
                            + " working on the volume directly");
                }
                return null;
            }
            // NAME:ID: the serve refuses if it holds a same-named volume of another store (e.g. another bucket
            // with the same --dir). One GET of the superblock; a missing volume fails here, clearly.
            String id;
            try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
                id = engine.superblock(volume).volumeId();
            }
            String v = volume + ":" + id;
            return c.call(verb, snapshot == null ? List.of(v) : List.of(v, snapshot), progress::line);
        }
    }

    /** The direct path found the volume held: say by whom, and where a snapshot of it can be taken. */
    static IOException held(VolumeLockedException e, StoreSettings where, String volume) {
        String holder = e.holder();
        if (holder.startsWith("a process on this node")) {
            return new VolumeLockedException(e.getMessage() + ", but no serve answers on its control socket "
                    + where.controlSocket(volume) + " (it may be starting or stopping: try again); if that serve was started with"
                    + " --control PATH, pass the same --control", holder);
        }
        if (holder.startsWith("node ")) {
            return new VolumeLockedException(e.getMessage() + ". It is not held on this node (no serve answers on "
                    + where.controlSocket(volume) + "): take the snapshot on the holder's node, where its serve"
                    + " answers", holder);
        }
        return e;
    }

    private static String snapshotName(Args args) {
        String name = required(args, "name");
        try {
            VolumeKeys.validateSnapshotName(name);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        return name;
    }

    private static String required(Args args, String flag) {
        String v = args.get(flag, null);
        if (v == null) {
            throw new Args.UsageException("snapshot: --" + flag + " is required");
        }
        if (flag.equals("volume")) {
            try {
                VolumeKeys.validateName(v);
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException(e.getMessage());
            }
        }
        return v;
    }
}
