package dev.strata.node.cli;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code strata demo}: the engine end to end on the embedded local object store. A child
 * process writes 4 KiB blocks at random (a flush every 32 writes) and is killed with SIGKILL;
 * the volume is reopened (journal replay, re-upload), every acknowledged write is verified, and
 * the figures are printed.
 */
final class DemoCommand {
    static final int BLOCK = 4096;
    static final long VOLUME_BYTES = 1L << 30;
    static final int FLUSH_EVERY = 32;

    /** Block written by operation {@code i} of the demo's stream. */
    static long blockOf(long i) {
        return new SplittableRandom(0x5EED + i).nextLong(VOLUME_BYTES / BLOCK);
    }

    static void fill(ByteBuffer buf, long op, long block) {
        buf.clear();
        buf.putLong(op + 1).putLong(block);
        long x = (op + 1) * 0x9E3779B97F4A7C15L ^ block;
        while (buf.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buf.putLong(x);
        }
        buf.flip();
    }

    static int run(Args args, PrintStream out) throws Exception {
        Path dir = Path.of(args.get("dir", "strata-data")).toAbsolutePath();
        int seconds = Integer.parseInt(args.get("seconds", "4"));
        String volume = "demo-" + System.currentTimeMillis();
        Path bucket = dir.resolve("bucket");
        Path node = dir.resolve("node");
        Files.createDirectories(dir);
        out.println("strata demo: volume " + volume + " (1 GiB) in " + bucket + ", journal in " + node);
        try (StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(bucket), node)) {
            engine.createVolume(volume, VOLUME_BYTES);
        }
        out.println("1. a writer process writes random 4 KiB blocks, flushing every " + FLUSH_EVERY + " writes, for ~"
                + seconds + " s, then gets SIGKILL");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                StrataMain.class.getName(), "demo-writer", "--dir", dir.toString(), "--volume", volume)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        AtomicLong durable = new AtomicLong(-1);
        AtomicLong startNanos = new AtomicLong();
        Thread lines = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.equals("OPEN")) {
                        startNanos.set(System.nanoTime());
                    } else if (line.startsWith("DURABLE ")) {
                        durable.set(Long.parseLong(line.substring(8)));
                    }
                }
            } catch (Exception ignored) {
                // killed
            }
        });
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (startNanos.get() == 0 && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (!child.isAlive() || startNanos.get() == 0) {
            out.println("the writer process failed to start");
            return 1;
        }
        Thread.sleep(seconds * 1000L);
        child.toHandle().destroyForcibly(); // SIGKILL; keeps our end of its stdout open so no ack line is lost
        child.waitFor();
        lines.join();
        double secs = (System.nanoTime() - startNanos.get()) / 1e9;
        long acked = durable.get();
        out.printf("   killed after %.1f s: %d writes acknowledged durable (%.0f writes/s, %.1f MiB/s of 4 KiB writes)%n",
                secs, acked, acked / secs, acked * (double) BLOCK / secs / (1 << 20));

        out.println("2. reopen: replay the journal, re-upload what had not reached the bucket, verify every acknowledged write");
        ObjectStore store = new LocalDirectoryObjectStore(bucket);
        try (StrataEngine engine = new StrataEngine(store, node)) {
            long t0 = System.nanoTime();
            LogStructuredVolume v = engine.openForWrite(volume, VolumeOptions.defaults(), false);
            double openMs = (System.nanoTime() - t0) / 1e6;
            out.printf("   reopened in %.0f ms (epoch %d)%n", openMs, v.epoch());
            // The newest acknowledged write of each block: the recovered block must hold it or a later one of the same block.
            java.util.HashMap<Long, Long> newest = new java.util.HashMap<>();
            for (long i = 0; i < acked; i++) {
                newest.put(blockOf(i), i);
            }
            ByteBuffer got = ByteBuffer.allocateDirect(BLOCK);
            long bad = 0;
            for (var e : newest.entrySet()) {
                got.clear();
                v.read(e.getKey() * BLOCK, got);
                long op = got.getLong(0) - 1;
                ByteBuffer want = ByteBuffer.allocateDirect(BLOCK);
                fill(want, op, e.getKey());
                if (op < e.getValue() || op >= acked + FLUSH_EVERY || blockOf(op) != e.getKey() || !want.equals(got.flip())) {
                    bad++;
                }
            }
            out.printf("   verified %d blocks holding %d acknowledged writes: %s%n", newest.size(), acked,
                    bad == 0 ? "all correct" : bad + " WRONG");
            v.close();
            var s = store.stats();
            long written = acked * BLOCK;
            out.println("3. figures");
            out.printf("   bucket: %d PUTs (objects, checkpoints, records), %.1f MiB uploaded, %.0f PUTs per GiB written%n",
                    s.putRequests(), s.bytesPut.sum() / 1048576.0, s.putRequests() / (written / (double) (1L << 30)));
            out.println("   the writer's own PUTs are not counted here (it was killed); see docs/benchmarks.md for measured runs");
            return bad == 0 ? 0 : 1;
        }
    }

    /** The child: writes until killed. */
    static int writer(Args args, PrintStream out) throws Exception {
        Path dir = Path.of(args.get("dir", "strata-data"));
        String volume = args.get("volume", null);
        try (StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(dir.resolve("bucket")), dir.resolve("node"))) {
            LogStructuredVolume v = engine.openForWrite(volume, VolumeOptions.defaults(), false);
            out.println("OPEN");
            out.flush();
            ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
            for (long i = 0; ; i++) {
                long block = blockOf(i);
                fill(buf, i, block);
                v.write(block * BLOCK, buf, false);
                if ((i + 1) % FLUSH_EVERY == 0) {
                    v.flush();
                    out.println("DURABLE " + (i + 1));
                    out.flush();
                }
            }
        }
    }
}
