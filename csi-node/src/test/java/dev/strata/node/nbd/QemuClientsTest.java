package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.run;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** qemu-img and qemu-io (Debian qemu-utils) against the server, over both transports. */
@ParameterizedClass
@EnumSource(Backend.class)
class QemuClientsTest extends BothBackends {
    private static final long SIZE = 16L * 1024 * 1024;


    @Test
    void qemuImgInfoReportsTheSize() throws Exception {
        String qemuImg = requireTool("qemu-img");
        CountingVolume v = volumes.create("vol", SIZE);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", "test volume", v))) {
            for (String uri : f.uris("vol")) {
                var r = runOk(qemuImg, "info", "--output=json", uri);
                assertTrue(r.out().contains("\"virtual-size\": " + SIZE), r.out());
            }
        }
    }

    @Test
    void qemuImgConvertThenCompare() throws Exception {
        String qemuImg = requireTool("qemu-img");
        byte[] image = new byte[(int) SIZE];
        Random random = new Random(42);
        // Data with zero stretches in between, so holes and zero detection are exercised too.
        for (int off = 0; off < image.length; off += 1024 * 1024) {
            byte[] chunk = new byte[256 * 1024];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, image, off, chunk.length);
        }
        Path file = dir.resolve("source.raw");
        Files.write(file, image);
        CountingVolume v = volumes.create("vol", SIZE);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            runOk(qemuImg, "convert", "-n", "-f", "raw", "-O", "raw", file.toString(), f.unixUri("vol"));
            assertArrayEquals(image, v.bytes(0, image.length));
            runOk(qemuImg, "compare", "-f", "raw", "-F", "raw", file.toString(), f.tcpUri("vol"));
        }
    }

    @Test
    void qemuImgCompareDetectsADifference() throws Exception {
        String qemuImg = requireTool("qemu-img");
        Path file = dir.resolve("zero.raw");
        Files.write(file, new byte[(int) SIZE]);
        CountingVolume v = volumes.create("vol", SIZE);
        v.write(4096 * 7, java.nio.ByteBuffer.wrap(filled(4096, (byte) 0x5a)), false);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            var r = run(qemuImg, "compare", "-f", "raw", "-F", "raw", file.toString(), f.unixUri("vol"));
            assertEquals(1, r.exit(), r.all());
        }
    }

    @Test
    void qemuIoPatternsDiscardZeroesFlushAndFua() throws Exception {
        String qemuIo = requireTool("qemu-io");
        CountingVolume v = volumes.create("vol", SIZE);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            for (String uri : f.uris("vol")) {
                var r = runOk(qemuIo, "-f", "raw", "--discard=unmap",
                        "-c", "write -P 0xab 0 1M",
                        "-c", "read -P 0xab 0 1M",
                        "-c", "write -f -P 0xcd 1M 64k",       // FUA
                        "-c", "read -P 0xcd 1M 64k",
                        "-c", "write -z 256k 128k",             // WRITE_ZEROES
                        "-c", "read -P 0 256k 128k",
                        "-c", "read -P 0xab 0 256k",
                        "-c", "discard 512k 256k",              // TRIM
                        "-c", "read -P 0 512k 256k",
                        "-c", "read -P 0xab 768k 256k",
                        "-c", "write -P 0x11 3584 1024",        // sub-4K, 512-aligned
                        "-c", "read -P 0x11 3584 1024",
                        "-c", "flush",
                        uri);
                assertFalse(r.all().contains("Pattern verification failed"), r.all());
                assertFalse(r.all().toLowerCase().contains("error"), r.all());
            }
            assertTrue(v.fuaWrites.get() >= 2, "FUA writes reached the volume: " + v.fuaWrites);
            assertTrue(v.flushes.get() >= 2, "flushes reached the volume: " + v.flushes);
            assertTrue(v.trims.get() >= 2, "trims reached the volume: " + v.trims);
            assertTrue(v.zeroes.get() >= 2, "write-zeroes reached the volume: " + v.zeroes);
            assertNotEquals(0, v.allocatedBytes());
        }
    }

    @Test
    void qemuIoReadPastEndFails() throws Exception {
        String qemuIo = requireTool("qemu-io");
        CountingVolume v = volumes.create("vol", SIZE);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            var r = run(qemuIo, "-f", "raw", "-c", "read 16M 64k", f.unixUri("vol"));
            assertTrue(r.all().contains("Input/output error") || r.all().contains("Invalid argument")
                    || r.all().contains("out of range") || r.all().contains("beyond"), r.all());
        }
    }

    static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        java.util.Arrays.fill(a, b);
        return a;
    }
}
