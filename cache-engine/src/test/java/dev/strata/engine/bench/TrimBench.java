package dev.strata.engine.bench;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): a full-device trim of a 1 TiB volume whose map holds EXTENTS scattered
 * extents; prints its duration and the bucket requests made during it (expected: none).
 *
 * <p>args: WORKDIR [EXTENTS=200000]
 */
public final class TrimBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int extents = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        long size = 1L << 40;
        ObjectStore store = new LocalDirectoryObjectStore(dir.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, dir.resolve("node"), "trim-bench");
        String name = "trim-" + System.nanoTime();
        engine.createVolume(name, size);
        LogStructuredVolume v = engine.openForWrite(name, VolumeOptions.defaults(), false);
        ByteBuffer buf = ByteBuffer.allocateDirect(4096);
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < extents; i++) {
            v.write(r.nextLong(size / 4096) * 4096, buf.clear(), false);
        }
        v.flushToBucket();
        long requestsBefore = store.stats().putRequests() + store.stats().getRequests() + store.stats().lists.sum();
        long t0 = System.nanoTime();
        v.trim(0, size);
        double ms = (System.nanoTime() - t0) / 1e6;
        long requests = store.stats().putRequests() + store.stats().getRequests() + store.stats().lists.sum() - requestsBefore;
        System.out.printf("run=1 extents=%d trim_1TiB_ms=%.1f bucket_requests_during_trim=%d%n", extents, ms, requests);
        v.close();
        engine.close();
    }
}
