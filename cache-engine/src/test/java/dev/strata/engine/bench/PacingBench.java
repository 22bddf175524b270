package dev.strata.engine.bench;

import dev.strata.engine.pacing.HintedFile;
import dev.strata.engine.pacing.LinuxFileHints;
import dev.strata.engine.pacing.PacingPolicy;
import dev.strata.engine.pacing.WritebackPacer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Benchmark (not a test), run by bench/pacing.sh: a sequential fill of a new file through the
 * page cache in fixed-size writes, plain or with a {@link WritebackPacer}. Prints one line of
 * figures, each key prefixed with the mode: write() latency p50/p99/max (a paced write includes
 * the pacer's work, as the caller sees it), the peaks of Dirty and Dirty+Writeback in
 * /proc/meminfo sampled every 50 ms by another thread, the time of the write loop and the total
 * time including the final fdatasync (so the plain fill is charged for the dirty data it left).
 *
 * <p>args: FILE TOTAL_MIB plain|paced [WRITE_KIB=1024]
 */
public final class PacingBench {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long total = Long.parseLong(args[1]) << 20;
        String mode = args[2];
        boolean paced = switch (mode) {
            case "plain" -> false;
            case "paced" -> true;
            default -> throw new IllegalArgumentException("mode must be plain or paced, got " + mode);
        };
        int writeBytes = (args.length > 3 ? Integer.parseInt(args[3]) : 1024) << 10;
        int writes = (int) (total / writeBytes);

        ByteBuffer buf = ByteBuffer.allocateDirect(writeBytes);
        SplittableRandom rnd = new SplittableRandom(42);
        while (buf.hasRemaining()) {
            buf.put((byte) rnd.nextInt()); // incompressible, in case the storage compresses
        }
        long[] latency = new long[writes];
        Files.deleteIfExists(file);

        MeminfoSampler sampler = new MeminfoSampler();
        Thread sampling = Thread.ofPlatform().name("meminfo-sampler").daemon(true).start(sampler);
        long start = System.nanoTime();
        long loopEnd;
        String pacerInfo = "";
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            WritebackPacer pacer = paced ? WritebackPacer.open(LinuxFileHints.system(), file, PacingPolicy.defaults()) : null;
            if (paced && !pacer.active()) {
                throw new IllegalStateException("page-cache hints unavailable: " + LinuxFileHints.system().unavailableReason());
            }
            for (int i = 0; i < writes; i++) {
                long pos = (long) i * writeBytes;
                long t0 = System.nanoTime();
                buf.clear();
                long at = pos;
                while (buf.hasRemaining()) {
                    at += ch.write(buf, at);
                }
                if (pacer != null) {
                    pacer.onWrite(pos, writeBytes);
                }
                latency[i] = System.nanoTime() - t0;
            }
            loopEnd = System.nanoTime();
            if (pacer != null) {
                pacer.close();
                pacerInfo = String.format(" %s_final_chunk_MiB=%d %s_chunks=%d %s_resizes=%d %s_wait_total_s=%.3f %s_stall_total_s=%.3f",
                        mode, pacer.chunkBytes() >> 20, mode, pacer.chunks(), mode, pacer.resizes(), mode, pacer.waitNanosTotal() / 1e9,
                        mode, pacer.stallNanosTotal() / 1e9);
            }
            ch.force(false);
        }
        long end = System.nanoTime();
        sampler.stop.set(true);
        sampling.join();
        // Leave nothing cached for the next run.
        try (HintedFile h = LinuxFileHints.system().open(file)) {
            h.fadvise(0, 0, LinuxFileHints.POSIX_FADV_DONTNEED);
        }
        Files.deleteIfExists(file);

        Arrays.sort(latency);
        System.out.printf("%s_p50_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f %s_dirty_peak_MiB=%d %s_dirty_wb_peak_MiB=%d %s_write_s=%.3f %s_total_s=%.3f %s_MBps=%.1f%s%n",
                mode, ms(pct(latency, 0.50)), mode, ms(pct(latency, 0.99)), mode, ms(latency[writes - 1]),
                mode, sampler.dirtyPeakKb / 1024, mode, sampler.dirtyWritebackPeakKb / 1024,
                mode, (loopEnd - start) / 1e9, mode, (end - start) / 1e9, mode, total / ((end - start) / 1e9) / 1e6, pacerInfo);
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** Peaks of Dirty and Dirty + Writeback (kB) in /proc/meminfo, every 50 ms. */
    private static final class MeminfoSampler implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        volatile long dirtyPeakKb;
        volatile long dirtyWritebackPeakKb;

        @Override
        public void run() {
            Path meminfo = Path.of("/proc/meminfo");
            while (!stop.get()) {
                try {
                    long dirty = -1;
                    long writeback = -1;
                    for (String line : Files.readAllLines(meminfo)) {
                        if (line.startsWith("Dirty:")) {
                            dirty = kb(line);
                        } else if (line.startsWith("Writeback:")) {
                            writeback = kb(line);
                        }
                    }
                    dirtyPeakKb = Math.max(dirtyPeakKb, dirty);
                    dirtyWritebackPeakKb = Math.max(dirtyWritebackPeakKb, dirty + writeback);
                    Thread.sleep(50);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }

        private static long kb(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
    }
}
