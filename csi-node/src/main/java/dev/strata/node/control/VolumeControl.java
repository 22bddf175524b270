package dev.strata.node.control;

import dev.strata.engine.gc.GcReport;
import dev.strata.engine.gc.VictimSelector;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.util.HugePageBuffers;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.SnapshotExistsException;
import dev.strata.engine.volume.SnapshotInUseException;
import dev.strata.engine.volume.SnapshotNotFoundException;
import dev.strata.engine.volume.SnapshotRecord;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeClosedException;
import dev.strata.engine.volume.VolumeFencedException;
import dev.strata.engine.volume.VolumeStats;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The control requests of one served volume: snapshots go through the writer that holds the
 * volume (it owns the journal and the open batch), so every write the NBD server acknowledged
 * before the request is in the snapshot.
 */
public final class VolumeControl implements ControlServer.Handler {
    private final StrataEngine engine;
    private final LogStructuredVolume volume;
    private final Supplier<Map<String, String>> extra;
    private final Instant started = Instant.now();

    /** @param extra more {@code status} fields (e.g. NBD connections), asked for at each request */
    public VolumeControl(StrataEngine engine, LogStructuredVolume volume, Supplier<Map<String, String>> extra) {
        this.engine = engine;
        this.volume = volume;
        this.extra = extra;
    }

    @Override
    public Map<String, String> handle(String verb, List<String> args) throws IOException {
        Map<String, String> f = new LinkedHashMap<>();
        try {
            switch (verb) {
                case ControlProtocol.SNAPSHOT_CREATE -> {
                    String name = snapshotArgs(verb, args);
                    long t0 = System.nanoTime();
                    SnapshotRecord r = volume.createSnapshot(name);
                    f.put("volume", r.volume());
                    f.put("snapshot", r.snapshot());
                    f.put("object-seq", Long.toString(r.objectSeq()));
                    f.put("epoch", Long.toString(r.epoch()));
                    f.put("created", r.created().toString());
                    f.put("millis", Long.toString(Duration.ofNanos(System.nanoTime() - t0).toMillis()));
                }
                case ControlProtocol.SNAPSHOT_DELETE -> {
                    // Bucket-only (record, map, marker): it never needs the journal, but going through the
                    // holder keeps one place that changes a held volume's snapshots.
                    String name = snapshotArgs(verb, args);
                    java.util.List<String> keepers = engine.deleteSnapshot(volume.name(), name);
                    f.put("volume", volume.name());
                    f.put("snapshot", name);
                    if (!keepers.isEmpty()) {
                        // Hidden, kept while these clones read through it (docs/snapshots-and-clones.md).
                        f.put("kept-for", String.join(",", keepers));
                    }
                }
                case ControlProtocol.FLUSH -> {
                    volumeArg(verb, args, 1);
                    long t0 = System.nanoTime();
                    volume.flushToBucket();
                    f.put("volume", volume.name());
                    f.put("millis", Long.toString(Duration.ofNanos(System.nanoTime() - t0).toMillis()));
                }
                case ControlProtocol.STATUS -> {
                    volumeArg(verb, args, 1);
                    status(f);
                }
                case ControlProtocol.GC -> {
                    // One garbage collection pass now (docs/gc.md); the background collector keeps running.
                    volumeArg(verb, args, 1);
                    long t0 = System.nanoTime();
                    GcReport r = volume.collectGarbage();
                    f.put("volume", volume.name());
                    f.put("objects-compacted", Integer.toString(r.objectsCompacted()));
                    f.put("bytes-copied", Long.toString(r.bytesCopied()));
                    f.put("gc-objects-written", Integer.toString(r.gcObjectsWritten()));
                    f.put("objects-retired", Integer.toString(r.objectsRetired()));
                    f.put("objects-deleted", Integer.toString(r.objectsDeleted()));
                    f.put("bytes-deleted", Long.toString(r.bytesDeleted()));
                    f.put("objects-waiting", Integer.toString(r.objectsWaiting()));
                    f.put("millis", Long.toString(Duration.ofNanos(System.nanoTime() - t0).toMillis()));
                }
                default -> throw new ControlException(ControlProtocol.E_UNKNOWN_REQUEST, "unknown request '" + verb
                        + "' (known: snapshot-create, snapshot-delete, flush, status, gc)");
            }
        } catch (SnapshotExistsException e) {
            throw new ControlException(ControlProtocol.E_SNAPSHOT_EXISTS, e.getMessage());
        } catch (SnapshotNotFoundException e) {
            throw new ControlException(ControlProtocol.E_SNAPSHOT_NOT_FOUND, e.getMessage());
        } catch (SnapshotInUseException e) {
            throw new ControlException(ControlProtocol.E_SNAPSHOT_IN_USE, e.getMessage());
        } catch (VolumeFencedException e) {
            throw new ControlException(ControlProtocol.E_FENCED, e.getMessage());
        } catch (VolumeClosedException e) {
            throw new ControlException(ControlProtocol.E_SHUTTING_DOWN, e.getMessage());
        }
        return f;
    }

    @Override
    public String progress(String verb, List<String> args, Duration elapsed) {
        String what = switch (verb) {
            case ControlProtocol.SNAPSHOT_CREATE -> "snapshot " + volume.name() + "@" + (args.size() > 1 ? args.get(1) : "?")
                    + ": uploading what is only in the journal";
            case ControlProtocol.FLUSH -> "flush " + volume.name() + ": uploading what is only in the journal";
            case ControlProtocol.GC -> "gc " + volume.name() + ": " + volume.gcStats();
            default -> verb + " " + String.join(" ", args);
        };
        VolumeStats s = volume.stats();
        return what + " (" + elapsed.toSeconds() + " s; objects sealed " + s.objectsSealed.sum() + ", uploaded "
                + s.objectsUploaded.sum() + " since serve started)";
    }

    private void status(Map<String, String> f) throws IOException {
        VolumeStats s = volume.stats();
        f.put("volume", volume.name());
        f.put("volume-id", volume.superblock().volumeId());
        f.put("store", engine.store().describe());
        f.put("size", Long.toString(volume.size()));
        f.put("epoch", Long.toString(volume.epoch()));
        f.put("node", engine.nodeId());
        f.put("pid", Long.toString(ProcessHandle.current().pid()));
        f.put("flush-mode", volume.options().flushMode().name().toLowerCase());
        // Why writes fail with EIO now: fenced by a newer writer, or the local directory deleted (docs/engine.md).
        String refused = volume.writesRefusedBecause();
        f.put("writes-refused", refused == null ? "no" : refused);
        f.put("started", started.toString());
        f.put("uptime-seconds", Long.toString(Duration.between(started, Instant.now()).toSeconds()));
        f.put("snapshots", Integer.toString(engine.listSnapshots(volume.name()).size()));
        // One LIST, as 'volume inspect' does: every object of the volume in the bucket, of any epoch.
        List<ObjectInfo> objects = engine.store().list(new VolumeKeys(volume.name()).objectsPrefix());
        f.put("objects", Integer.toString(objects.size()));
        f.put("object-bytes", Long.toString(objects.stream().mapToLong(ObjectInfo::size).sum()));
        f.put("writes", Long.toString(s.writes.sum()));
        f.put("bytes-written", Long.toString(s.bytesWritten.sum()));
        f.put("reads", Long.toString(s.reads.sum()));
        f.put("bytes-read", Long.toString(s.bytesRead.sum()));
        f.put("trims", Long.toString(s.trims.sum()));
        f.put("zeroes", Long.toString(s.zeroes.sum()));
        f.put("flushes", Long.toString(s.flushes.sum()));
        f.put("objects-sealed", Long.toString(s.objectsSealed.sum()));
        f.put("objects-uploaded", Long.toString(s.objectsUploaded.sum()));
        f.put("objects-pending", Long.toString(Math.max(0, s.objectsSealed.sum() - s.objectsUploaded.sum())));
        f.put("checkpoints", Long.toString(s.checkpoints.sum()));
        f.put("reads-from-memory", Long.toString(s.readsFromMemory.sum()));
        f.put("reads-from-bucket", Long.toString(s.readsFromBucket.sum()));
        // The node's read cache (docs/read-cache.md, "Metrics"): shared by the node's volumes.
        var cache = engine.readCache(volume.options());
        f.put("read-cache", cache == null ? "off"
                : "size=" + cache.config().sizeBytes() + " cached-blocks=" + cache.cachedBlocks() + " evictions=" + cache.evictions()
                        + " " + cache.stats());
        // The process's O_DIRECT buffers (docs/read-cache.md, "I/O buffers on huge pages"): past the limit they are ordinary pages.
        f.put("io-buffers", (HugePageBuffers.available() ? "huge-pages" : "ordinary-pages") + " mapped-bytes=" + HugePageBuffers.mappedBytes()
                + " limit-bytes=" + HugePageBuffers.LIMIT_BYTES + " slabs-past-limit=" + HugePageBuffers.slabsPastLimit());
        // Garbage collection (docs/gc.md): its counters, and what a pass would do now.
        f.put("gc", volume.gcStats());
        VictimSelector.Selection gc = volume.gcEstimate();
        f.put("gc-empty-objects", Integer.toString(gc.empty().size()));
        f.put("gc-compact-objects", Integer.toString(gc.compact().size()));
        f.put("gc-bytes-to-copy", Long.toString(gc.bytesToCopy()));
        f.put("gc-bytes-freed", Long.toString(gc.bytesFreed()));
        f.putAll(extra.get());
    }

    private String snapshotArgs(String verb, List<String> args) throws ControlException {
        volumeArg(verb, args, 2);
        String name = args.get(1);
        try {
            VolumeKeys.validateSnapshotName(name);
        } catch (IllegalArgumentException e) {
            throw new ControlException(ControlProtocol.E_BAD_ARGUMENT, e.getMessage());
        }
        return name;
    }

    /**
     * Checks the VOLUME argument: {@code NAME}, or {@code NAME:VOLUME-ID} (the superblock's id, as
     * the command line sends it), so a request meant for a same-named volume of another store
     * never acts on this one.
     */
    private void volumeArg(String verb, List<String> args, int count) throws ControlException {
        if (args.size() != count) {
            throw new ControlException(ControlProtocol.E_BAD_ARGUMENT, verb + " takes " + (count == 1 ? "VOLUME" : "VOLUME SNAPSHOT")
                    + ", got " + args.size() + " argument(s)");
        }
        String v = args.getFirst();
        int colon = v.indexOf(':');
        String name = colon < 0 ? v : v.substring(0, colon);
        String id = colon < 0 ? null : v.substring(colon + 1);
        if (!name.equals(volume.name())) {
            throw new ControlException(ControlProtocol.E_WRONG_VOLUME, "this serve (pid " + ProcessHandle.current().pid()
                    + ") holds volume " + volume.name() + ", not " + name);
        }
        if (id != null && !id.equals(volume.superblock().volumeId())) {
            throw new ControlException(ControlProtocol.E_WRONG_VOLUME, "this serve (pid " + ProcessHandle.current().pid()
                    + ") holds volume " + volume.name() + " id " + volume.superblock().volumeId() + " of "
                    + engine.store().describe() + ", not id " + id + " (a volume of the same name in another store?)");
        }
    }
}
