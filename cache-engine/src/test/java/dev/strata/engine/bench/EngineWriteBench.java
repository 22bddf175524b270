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
 * Benchmark (not a test), run by bench/engine-write.sh: 4 KiB random writes through the engine
 * with a flush every 32 writes, on the local directory store; prints one line of figures:
 * throughput, the journal's writes and fdatasyncs, and bucket PUTs per GiB written.
 *
 * <p>args: WORKDIR TOTAL_MIB [THREADS]
 */
public final class EngineWriteBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long total = Long.parseLong(args[1]) << 20;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        long volumeBytes = 8L << 30;
        ObjectStore store = new LocalDirectoryObjectStore(dir.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, dir.resolve("node"), "bench");
        String name = "bench-" + System.nanoTime();
        engine.createVolume(name, volumeBytes);
        LogStructuredVolume v = engine.openForWrite(name, VolumeOptions.defaults(), false);
        long perThread = total / 4096 / threads;
        long t0 = System.nanoTime();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = Thread.ofPlatform().start(() -> {
                try {
                    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
                    SplittableRandom r = new SplittableRandom(id);
                    for (long i = 0; i < perThread; i++) {
                        buf.clear();
                        while (buf.hasRemaining()) {
                            buf.putLong(r.nextLong());
                        }
                        buf.flip();
                        v.write(r.nextLong(volumeBytes / 4096) * 4096, buf, false);
                        if ((i + 1) % 32 == 0) {
                            v.flush();
                        }
                    }
                    v.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long bytes = perThread * threads * 4096;
        long tc = System.nanoTime();
        v.close();
        double closeSecs = (System.nanoTime() - tc) / 1e9;
        double gib = bytes / (double) (1L << 30);
        System.out.printf("engine_MBps=%.1f iops=%.0f seconds=%.2f close_upload_seconds=%.2f put_requests=%d puts_per_GiB=%.1f "
                + "bytes_put_per_byte_written=%.3f%n",
                bytes / secs / 1e6, bytes / 4096 / secs, secs, closeSecs, store.stats().putRequests(),
                store.stats().putRequests() / gib, store.stats().bytesPut.sum() / (double) bytes);
        engine.close();
    }
}
