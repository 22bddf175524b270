package dev.strata.engine.bench;

import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.S3ObjectStore;
import dev.strata.engine.store.S3ProxyServer;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test), run by bench/read-cache.sh (issue 4, acceptance 2): on a real S3
 * server (S3Proxy, filesystem backend, 127.0.0.1), measured side by side in one run:
 * <ol>
 *   <li>a cold sequential read of the volume through the engine (empty read cache, a node that
 *       never saw the volume), 1 MiB reads;</li>
 *   <li>the same read after a restart of that node: read cache hit ratio and GETs;</li>
 *   <li>the S3 GET ceiling: the volume's objects read with 1 MiB ranged GETs straight through
 *       the S3 store, one at a time.</li>
 * </ol>
 * Prints one {@code run=N key=value ...} line for bench/summarize.py.
 *
 * <p>args: WORKDIR VOLUME_MIB RUN
 */
public final class ColdReadBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int mib = Integer.parseInt(args[1]);
        String run = args.length > 2 ? args[2] : "1";
        long size = (long) mib << 20;
        Files.createDirectories(dir);
        Files.createDirectories(dir.resolve("s3proxy"));
        try (S3ProxyServer s3 = S3ProxyServer.startFilesystem(dir.resolve("s3proxy"))) {
            s3.createBucket("bench");
            VolumeOptions opts = VolumeOptions.defaults();
            try (StrataEngine writer = new StrataEngine(new S3ObjectStore(s3.config("bench").build()), dir.resolve("writer"), "writer")) {
                writer.createVolume("v", size);
                try (LogStructuredVolume v = writer.openForWrite("v", opts, false)) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                    SplittableRandom r = new SplittableRandom(1);
                    for (long off = 0; off < size; off += buf.capacity()) {
                        buf.clear();
                        while (buf.hasRemaining()) {
                            buf.putLong(r.nextLong());
                        }
                        v.write(off, buf.flip(), false);
                    }
                }
            }

            // 2. Cold read through the engine on a node with an empty cache.
            Path node = dir.resolve("reader");
            double coldMBps;
            long coldGets;
            try (StrataEngine reader = new StrataEngine(new S3ObjectStore(s3.config("bench").build()), node, "reader")) {
                coldMBps = readAll(reader, opts, size);
                ReadCache c = reader.readCache(opts);
                coldGets = c.stats().bucketGets.sum();
                c.close(); // persists its index, as a clean shutdown does
            }
            // 3. The same node restarted: the persisted cache serves the read.
            double warmMBps;
            long hits;
            long misses;
            long warmGets;
            try (StrataEngine reader = new StrataEngine(new S3ObjectStore(s3.config("bench").build()), node, "reader")) {
                warmMBps = readAll(reader, opts, size);
                ReadCache c = reader.readCache(opts);
                hits = c.stats().blockHits.sum();
                misses = c.stats().blockMisses.sum();
                warmGets = c.stats().bucketGets.sum();
            }
            // 1. The ceiling, measured after the engine reads so both run on a warmed-up JVM and S3 client:
            //    the same bytes, plain 1 MiB ranged GETs through the S3 store.
            S3ObjectStore raw = new S3ObjectStore(s3.config("bench").build());
            List<ObjectInfo> objects = raw.list("volumes/v/objects/");
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            long bytes = 0;
            long t0 = System.nanoTime();
            for (ObjectInfo o : objects) {
                for (long off = 0; off < o.size(); off += chunk.capacity()) {
                    chunk.clear();
                    int n = raw.getRange(o.key(), off, chunk);
                    bytes += Math.max(0, n);
                }
            }
            double ceilingMBps = bytes / ((System.nanoTime() - t0) / 1e9) / 1e6;
            raw.close();

            double gib = size / (double) (1L << 30);
            System.out.printf("run=%s s3_get_ceiling_MBps=%.1f cold_read_MBps=%.1f restart_read_MBps=%.1f "
                    + "cold_gets_per_GiB=%.1f restart_hit_ratio=%.4f restart_gets_per_GiB=%.1f%n",
                    run, ceilingMBps, coldMBps, warmMBps, coldGets / gib, hits / (double) Math.max(1, hits + misses),
                    warmGets / gib);
        }
    }

    private static double readAll(StrataEngine engine, VolumeOptions opts, long size) throws Exception {
        try (LogStructuredVolume v = engine.openReadOnly("v", opts)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long t0 = System.nanoTime();
            for (long off = 0; off < size; off += buf.capacity()) {
                buf.clear();
                v.read(off, buf);
            }
            return size / ((System.nanoTime() - t0) / 1e9) / 1e6;
        }
    }
}
