package dev.strata.engine.readcache;

import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Benchmark (not a test): the read cache's own CPU per MiB on a cold sequential read, without
 * any S3 (docs/benchmarks.md). Objects of 8 MiB live in memory; the block source copies the
 * asked range and verifies every block's CRC32C as ObjectReader does. Each round reads every
 * object once in 1 MiB reads through an empty cache (misses, readahead, fills), then once more
 * (hits). Prints process CPU ms per MiB and MB/s of both, and a bare "copy + CRC" peer.
 *
 * <p>args: WORKDIR [MIB=256] [ROUNDS=4]
 */
public final class ReadCachePathBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int objectBytes = 8 << 20;
        int objects = mib / 8;
        int bs = ReadCacheConfig.DEFAULT_BLOCK_SIZE;
        byte[][] data = new byte[objects][objectBytes];
        CachedObject[] objs = new CachedObject[objects];
        SplittableRandom r = new SplittableRandom(1);
        for (int o = 0; o < objects; o++) {
            for (int i = 0; i < objectBytes; i += 8) {
                long v = r.nextLong();
                for (int k = 0; k < 8; k++) {
                    data[o][i + k] = (byte) (v >>> (8 * k));
                }
            }
            int[] crcs = new int[objectBytes / bs];
            for (int b = 0; b < crcs.length; b++) {
                crcs[b] = Crc32c.of(data[o], b * bs, bs);
            }
            objs[o] = new CachedObject(1, 2, o + 1, 1, objectBytes, crcs, "bench/" + o);
        }
        BlockSource source = (obj, first, count, dst, pageCrcs) -> {
            byte[] d = data[(int) obj.objectSeq() - 1];
            dst.clear();
            dst.put(d, first * bs, dst.remaining());
            for (int b = 0; b < count; b++) {
                int end = Math.min(dst.limit(), (b + 1) * bs);
                if (Crc32c.of(dst, b * bs, end) != obj.blockCrcs()[first + b]) {
                    throw new IOException("crc");
                }
            }
            return true;
        };
        ByteBuffer dst = ByteBuffer.allocateDirect(1 << 20);
        for (int round = 0; round <= rounds; round++) {
            Path cacheDir = dir.resolve("cache-" + round);
            double[] cold;
            double[] warm;
            try (ReadCache cache = ReadCache.open(ReadCacheConfig.defaults(cacheDir, 1L << 30))) {
                cold = measure(mib, () -> readAll(cache, objs, source, dst, objectBytes));
                cache.awaitFills();
                warm = measure(mib, () -> readAll(cache, objs, source, dst, objectBytes));
            }
            deleteTree(cacheDir);
            double[] peer = measure(mib, () -> {
                ByteBuffer run = ByteBuffer.allocate(1 << 20);
                for (int o = 0; o < objects; o++) {
                    for (int off = 0; off < objectBytes; off += 1 << 20) {
                        source.fetch(objs[o], off / bs, 16, run, null);
                        dst.clear();
                        dst.put(run.flip());
                    }
                }
            });
            if (round > 0) {
                System.out.printf("run=%d cold_MBps=%.1f cold_cpu_ms_per_MiB=%.3f hit_MBps=%.1f hit_cpu_ms_per_MiB=%.3f "
                        + "copy_crc_MBps=%.1f copy_crc_cpu_ms_per_MiB=%.3f%n", round, cold[0], cold[1], warm[0], warm[1], peer[0], peer[1]);
            }
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    private static double[] measure(int mib, Body body) throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        body.run();
        double secs = (System.nanoTime() - t0) / 1e9;
        return new double[] {mib * 1.048576 / secs, (os.getProcessCpuTime() - c0) / 1e6 / mib};
    }

    private static void readAll(ReadCache cache, CachedObject[] objs, BlockSource source, ByteBuffer dst, int objectBytes)
            throws IOException {
        for (CachedObject o : objs) {
            for (long off = 0; off < objectBytes; off += 1 << 20) {
                dst.clear();
                cache.read(o, off, dst, 1 << 20, source);
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
