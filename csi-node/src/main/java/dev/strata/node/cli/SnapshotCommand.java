package dev.strata.node.cli;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.volume.SnapshotRecord;
import dev.strata.engine.volume.StrataEngine;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code strata snapshot create|list|delete}: what the CSI controller will call. A volume that
 * another process (a running {@code serve}) holds is refused with the holder's name: going
 * through that process is not built yet (docs/snapshots-and-clones.md, "Not done").
 */
final class SnapshotCommand {
    private SnapshotCommand() {
    }

    static int run(String[] argv, PrintStream out) throws Exception {
        if (argv.length < 2) {
            throw new Args.UsageException("snapshot: create, list or delete");
        }
        Set<String> flags = new HashSet<>(StoreSettings.FLAGS);
        flags.add("volume");
        flags.add("name");
        Args args = new Args(argv, 2, flags, StoreSettings.SWITCHES);
        StoreSettings where = StoreSettings.from(args);
        String volume = required(args, "volume");
        try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
            switch (argv[1]) {
                case "create" -> {
                    SnapshotRecord r = engine.createSnapshot(volume, snapshotName(args));
                    out.println("created snapshot " + r.volume() + "@" + r.snapshot() + " (objects up to " + r.objectSeq() + ")");
                }
                case "list" -> {
                    for (SnapshotRecord r : engine.listSnapshots(volume)) {
                        out.printf("%-32s objects up to %-8d created %s  clones %s%n", r.snapshot(), r.objectSeq(), r.created(),
                                engine.clonesOf(volume, r.snapshot()));
                    }
                }
                case "delete" -> {
                    String name = snapshotName(args);
                    java.util.List<String> keepers = engine.deleteSnapshot(volume, name);
                    if (keepers.isEmpty()) {
                        out.println("deleted snapshot " + volume + "@" + name);
                    } else {
                        // docs/snapshots-and-clones.md, "Deleting while clones read".
                        out.println("deleted snapshot " + volume + "@" + name + ": hidden now; kept in the bucket (name reserved)"
                                + " while clone(s) " + keepers + " read through it, removed when the last of them is deleted");
                    }
                }
                default -> throw new Args.UsageException("snapshot: unknown subcommand '" + argv[1] + "'");
            }
        }
        return 0;
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
