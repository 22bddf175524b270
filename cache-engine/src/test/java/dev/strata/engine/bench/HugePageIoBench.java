package dev.strata.engine.bench;

import dev.strata.engine.util.DirectIoMode;
import dev.strata.engine.util.HugePageBuffers;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * O_DIRECT 1 MiB writes and reads of a file, from and into buffers on ordinary 4 KiB pages and
 * buffers cut from huge-page slabs ({@link HugePageBuffers}), side by side in one process:
 * wall and CPU time per MiB of each (docs/benchmarks.md, "I/O buffers on huge pages"). The
 * cache's fills and streaming reads, the journal's entries and the NBD server's read buffers do
 * exactly this I/O. Run by {@code bench/huge-pages.sh}; one {@code run=} line per round, the
 * order of the two kinds alternating from round to round.
 *
 * <p>Usage: {@code HugePageIoBench FILE MIB_PER_PASS ROUNDS}
 */
public final class HugePageIoBench {
    private static final int MIB = 1 << 20;
    /** Eight buffers in turn, so that the pages are not all in one CPU cache line set. */
    private static final int BUFFERS = 8;

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int mib = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        ByteBuffer ordinary = HugePageBuffers.onOrdinaryPages(BUFFERS * MIB);
        ByteBuffer huge = HugePageBuffers.slab(BUFFERS * MIB);
        for (ByteBuffer b : new ByteBuffer[] {ordinary, huge}) {
            for (int i = 0; i < BUFFERS * MIB; i += 8) {
                b.putLong(i, i * 0x9E3779B97F4A7C15L);
            }
        }
        System.out.printf("# huge page buffers %s; transparent huge pages: %s%n", HugePageBuffers.available() ? "mapped" : "unavailable",
                Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))
                        ? Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).trim() : "none");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                DirectIoMode.OPEN_OPTION)) {
            pass(ch, ordinary, mib, true); // allocates the file's blocks: later passes overwrite, as a cache refills its slots
            for (int round = 1; round <= rounds; round++) {
                boolean hugeFirst = (round & 1) == 0;
                double[] o = null;
                double[] h;
                if (!hugeFirst) {
                    o = both(ch, ordinary, mib);
                }
                h = both(ch, huge, mib);
                if (hugeFirst) {
                    o = both(ch, ordinary, mib);
                }
                System.out.printf("run=%d ordinary_write_ms_per_MiB=%.4f huge_write_ms_per_MiB=%.4f ordinary_write_cpu_ms_per_MiB=%.4f "
                        + "huge_write_cpu_ms_per_MiB=%.4f ordinary_read_ms_per_MiB=%.4f huge_read_ms_per_MiB=%.4f "
                        + "ordinary_read_cpu_ms_per_MiB=%.4f huge_read_cpu_ms_per_MiB=%.4f huge_first=%d%n",
                        round, o[0], h[0], o[1], h[1], o[2], h[2], o[3], h[3], hugeFirst ? 1 : 0);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A write pass then a read pass: {wall, CPU} per MiB of each. */
    private static double[] both(FileChannel ch, ByteBuffer buffers, int mib) throws Exception {
        double[] w = pass(ch, buffers, mib, true);
        double[] r = pass(ch, buffers, mib, false);
        return new double[] {w[0], w[1], r[0], r[1]};
    }

    private static double[] pass(FileChannel ch, ByteBuffer buffers, int mib, boolean write) throws Exception {
        long c0 = cpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < mib; i++) {
            ByteBuffer b = buffers.slice((i % BUFFERS) * MIB, MIB);
            long at = (long) i * MIB;
            while (b.hasRemaining()) {
                int n = write ? ch.write(b, at + b.position()) : ch.read(b, at + b.position());
                if (n < 0) {
                    throw new java.io.EOFException("at " + (at + b.position()));
                }
            }
        }
        return new double[] {(System.nanoTime() - t0) / 1e6 / mib, (cpuNanos() - c0) / 1e6 / mib};
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
