package dev.strata.node.cli;

import dev.strata.engine.gc.VictimSelector;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.Superblock;
import dev.strata.engine.volume.VolumeOptions;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code strata volume create|clone|list|inspect|delete}: the volume operations the CSI controller
 * will call. {@code delete} prints its progress to standard error once a second.
 */
final class VolumeCommand {
    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        if (argv.length < 2) {
            throw new Args.UsageException("volume: create, clone, list or inspect");
        }
        Set<String> flags = new HashSet<>(StoreSettings.FLAGS);
        flags.add("size");
        flags.add("volume");
        flags.add("from");
        Args args = new Args(argv, 2, flags, StoreSettings.SWITCHES);
        StoreSettings where = StoreSettings.from(args);
        try (StrataEngine engine = new StrataEngine(where.open(), where.localDir())) {
            switch (argv[1]) {
                case "create" -> {
                    String name = name(args);
                    long size = Args.parseVolumeSize("size", args.get("size", "4GiB"));
                    Superblock sb = engine.createVolume(name, size);
                    out.println("created volume " + sb.volume() + " id " + sb.volumeId() + " size " + sb.sizeBytes());
                }
                case "clone" -> {
                    // --from SOURCE@SNAPSHOT: constant time, no data copied (docs/snapshots-and-clones.md).
                    String from = args.get("from", null);
                    int at = from == null ? -1 : from.indexOf('@');
                    if (at <= 0 || at == from.length() - 1) {
                        throw new Args.UsageException("volume clone: --from SOURCE@SNAPSHOT is required");
                    }
                    String name = name(args);
                    Superblock sb = engine.cloneVolume(from.substring(0, at), from.substring(at + 1), name);
                    out.println("created volume " + sb.volume() + " id " + sb.volumeId() + " size " + sb.sizeBytes()
                            + " as a clone of " + sb.parent());
                }
                case "list" -> {
                    for (String v : engine.listVolumes()) {
                        Superblock sb = engine.superblock(v);
                        out.printf("%-32s %16d bytes  created %s%n", v, sb.sizeBytes(), sb.created());
                    }
                }
                case "inspect" -> inspect(engine, name(args), out);
                case "delete" -> {
                    String name = name(args);
                    int keys = engine.deleteVolume(name, new ProgressPrinter(err, "deleting volume " + name, "keys"));
                    java.util.List<String> keepers = engine.clonesKeepingRemains(name);
                    if (keepers.isEmpty()) {
                        out.println("deleted volume " + name + " (" + keys + " keys)");
                    } else {
                        // docs/snapshots-and-clones.md, "Deleting while clones read".
                        out.println("deleted volume " + name + " (" + keys + " keys); what clone(s) " + keepers
                                + " read stays in the bucket (name reserved) until the last of them is deleted");
                    }
                }
                default -> throw new Args.UsageException("volume: unknown subcommand '" + argv[1] + "'");
            }
        }
        return 0;
    }

    private static String name(Args args) {
        String name = args.has("volume") ? args.get("volume", null) : args.positional().isEmpty() ? null : args.positional().getFirst();
        if (name == null) {
            throw new Args.UsageException("volume: name the volume (NAME or --volume NAME)");
        }
        try {
            VolumeKeys.validateName(name);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        return name;
    }

    private static void inspect(StrataEngine engine, String name, PrintStream out) throws Exception {
        Superblock sb = engine.superblock(name);
        VolumeKeys keys = new VolumeKeys(name);
        ObjectStore store = engine.store();
        out.println("volume      " + sb.volume());
        out.println("id          " + sb.volumeId());
        out.println("size        " + sb.sizeBytes() + " bytes");
        out.println("created     " + sb.created());
        if (sb.parent() != null) {
            out.println("parent      " + sb.parent());
        }
        List<ObjectInfo> objects = store.list(keys.objectsPrefix());
        long bytes = objects.stream().mapToLong(ObjectInfo::size).sum();
        out.println("objects     " + objects.size() + " (" + bytes + " bytes)");
        List<ObjectInfo> epochs = store.list(keys.epochsPrefix());
        out.println("epochs      " + epochs.stream().map(o -> o.key().substring(keys.epochsPrefix().length())).toList());
        out.println("checkpoints " + store.list(keys.checkpointsPrefix()).stream()
                .map(o -> o.key().substring(keys.checkpointsPrefix().length())).toList());
        // Live data and what GC would do, from the bucket's state (a running writer's newest writes may not be there yet).
        VolumeOptions readOnly = VolumeOptions.defaults().withReadCache(ReadCacheOptions.disabled());
        try (LogStructuredVolume v = engine.openReadOnly(name, readOnly)) {
            long[] live = v.liveSummary();
            VictimSelector.Selection gc = v.gcEstimate();
            out.printf("live        %d of %d data bytes in %d objects (%.1f %%)%n", live[0], live[1], live[2],
                    live[1] == 0 ? 100.0 : 100.0 * live[0] / live[1]);
            out.printf("gc          would free %d objects (%d bytes) by copying %d live bytes out of %d of them (threshold %.2f live)%n",
                    gc.empty().size() + gc.compact().size(), gc.bytesFreed(), gc.bytesToCopy(), gc.compact().size(),
                    readOnly.gc().liveThreshold());
        }
        for (var snap : engine.listSnapshots(name)) {
            out.println("snapshot    " + snap.snapshot() + " (objects up to " + snap.objectSeq() + ", " + snap.created()
                    + ") clones " + engine.clonesOf(name, snap.snapshot()));
        }
    }
}
