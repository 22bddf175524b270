package dev.strata.engine.volume;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.journal.JournalOptions;
import dev.strata.engine.readcache.ReadCacheOptions;
import java.time.Duration;

/**
 * Tunables of an open volume. The defaults are what {@code serve} uses.
 *
 * @param objectBytes         data bytes per object before it is sealed (8 MiB)
 * @param maxExtentsPerObject extents per object before it is sealed (bounds the header)
 * @param sealAfter           an open batch older than this is sealed and uploaded: with the
 *                            upload time, this bounds how much acknowledged data only the
 *                            node's disk holds
 * @param maxUploadsInFlight  concurrent PUTs
 * @param maxPendingBatches   batches held in memory (open + sealed, not yet uploaded); writers
 *                            wait beyond it
 * @param checkpointEveryObjects a map checkpoint after this many uploaded objects
 * @param flushMode           what FLUSH waits for
 * @param journal             the local journal's options
 * @param readCache           the node's read cache (docs/read-cache.md); size 0 disables it
 * @param gc                  the garbage collector's options (docs/gc.md)
 * @param coalescerClusterBytes cluster size of the sequential write coalescer (docs/coalescer.md),
 *                            a multiple of 4096 up to 4 MiB; 0 turns it off
 * @param coalescerStreams    sequential streams the coalescer follows at once (open clusters)
 * @param largeWriteBypassBytes writes at least this long, 4096-aligned in offset and length, skip
 *                            the journal: their data goes only into the open batch, and FLUSH/FUA
 *                            wait for its upload (docs/write-paths.md, "Large-write bypass"); a
 *                            multiple of 4096, 0 turns it off
 */
public record VolumeOptions(int objectBytes, int maxExtentsPerObject, Duration sealAfter, int maxUploadsInFlight,
        int maxPendingBatches, int checkpointEveryObjects, FlushMode flushMode, JournalOptions journal,
        ReadCacheOptions readCache, GcOptions gc, int coalescerClusterBytes, int coalescerStreams, int largeWriteBypassBytes) {

    /** Default coalescer cluster size (docs/coalescer.md, "Default"). */
    public static final int DEFAULT_COALESCER_CLUSTER_BYTES = 0;
    public static final int DEFAULT_COALESCER_STREAMS = 4;
    /** Default large-write bypass threshold (docs/write-paths.md, "Large-write bypass": why). */
    public static final int DEFAULT_LARGE_WRITE_BYPASS_BYTES = 0;

    /** What {@link Volume#flush()} waits for. */
    public enum FlushMode {
        /** Durable in the local journal (block-device semantics; the default). */
        JOURNAL,
        /** Uploaded to the bucket: survives the loss of the node, at the cost of a PUT per flush. */
        BUCKET
    }

    public VolumeOptions {
        if (readCache == null) {
            readCache = ReadCacheOptions.disabled();
        }
        if (gc == null) {
            gc = GcOptions.defaults();
        }
        if (objectBytes < 64 * 1024 || objectBytes % 4096 != 0) {
            throw new IllegalArgumentException("objectBytes must be a multiple of 4096 and at least 64 KiB: " + objectBytes);
        }
        if (maxExtentsPerObject < 16 || maxUploadsInFlight < 1 || maxPendingBatches < 2 || checkpointEveryObjects < 1) {
            throw new IllegalArgumentException("invalid volume options " + toStringShort(objectBytes, maxExtentsPerObject,
                    maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects));
        }
        if (coalescerClusterBytes < 0 || coalescerClusterBytes % 4096 != 0 || coalescerClusterBytes > 4 << 20
                || coalescerStreams < 1 || coalescerStreams > 64) {
            throw new IllegalArgumentException("coalescer cluster size must be 0 (off) or a multiple of 4096 up to 4 MiB, "
                    + "streams 1-64: " + coalescerClusterBytes + ", " + coalescerStreams);
        }
        if (largeWriteBypassBytes < 0 || largeWriteBypassBytes % 4096 != 0) {
            throw new IllegalArgumentException("large-write bypass threshold must be 0 (off) or a multiple of 4096: "
                    + largeWriteBypassBytes);
        }
    }

    private static String toStringShort(int a, int b, int c, int d, int e) {
        return "objectBytes=" + a + " maxExtents=" + b + " uploads=" + c + " pending=" + d + " checkpointEvery=" + e;
    }

    public static VolumeOptions defaults() {
        return new VolumeOptions(8 * 1024 * 1024, 32768, Duration.ofSeconds(5), 4, 16, 64, FlushMode.JOURNAL,
                JournalOptions.defaults(), ReadCacheOptions.defaults(), GcOptions.defaults(), DEFAULT_COALESCER_CLUSTER_BYTES,
                DEFAULT_COALESCER_STREAMS, DEFAULT_LARGE_WRITE_BYPASS_BYTES);
    }

    public VolumeOptions withObjectBytes(int v) {
        return new VolumeOptions(v, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withSealAfter(Duration v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, v, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withMaxPendingBatches(int v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, v, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withCheckpointEveryObjects(int v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, v, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withFlushMode(FlushMode v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, v, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withJournal(JournalOptions v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, v, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withMaxExtentsPerObject(int v) {
        return new VolumeOptions(objectBytes, v, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withReadCache(ReadCacheOptions v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, v, gc, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withGc(GcOptions v) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, v, coalescerClusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    /** The sequential write coalescer with clusters of {@code clusterBytes} (0: off). docs/coalescer.md. */
    public VolumeOptions withCoalescer(int clusterBytes) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, clusterBytes, coalescerStreams, largeWriteBypassBytes);
    }

    public VolumeOptions withCoalescerStreams(int streams) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, streams, largeWriteBypassBytes);
    }

    /**
     * The large-write bypass for writes of at least {@code bytes} (a multiple of 4096; 0: off):
     * docs/write-paths.md, "Large-write bypass".
     */
    public VolumeOptions withLargeWriteBypass(int bytes) {
        return new VolumeOptions(objectBytes, maxExtentsPerObject, sealAfter, maxUploadsInFlight, maxPendingBatches, checkpointEveryObjects, flushMode, journal, readCache, gc, coalescerClusterBytes, coalescerStreams, bytes);
    }
}
