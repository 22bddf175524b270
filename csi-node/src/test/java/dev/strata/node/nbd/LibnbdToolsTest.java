package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** nbdinfo and nbdcopy (Debian libnbd-bin) against the server. */
@ParameterizedClass
@EnumSource(Backend.class)
class LibnbdToolsTest extends BothBackends {
    private static final int K = 1024;
    private static final int M = 1024 * K;


    @Test
    void nbdinfoSizeBlockSizesAndFlags() throws Exception {
        String nbdinfo = requireTool("nbdinfo");
        CountingVolume v = volumes.create("vol", 16L * M);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", "test volume", v))) {
            for (String uri : f.uris("vol")) {
                assertEquals(Long.toString(16L * M), runOk(nbdinfo, "--size", uri).out().strip());
                String json = runOk(nbdinfo, "--json", uri).out().replaceAll("\\s+", "");
                for (String expected : List.of("\"block_size_minimum\":512", "\"block_size_preferred\":4096",
                        "\"block_size_maximum\":33554432", "\"can_multi_conn\":true", "\"can_fua\":true",
                        "\"can_flush\":true", "\"can_trim\":true", "\"can_zero\":true", "\"can_fast_zero\":true",
                        "\"can_cache\":true", "\"is_read_only\":false", "\"export-name\":\"vol\"",
                        "\"description\":\"testvolume\"", "\"base:allocation\"")) {
                    assertTrue(json.contains(expected), expected + " missing in " + json);
                }
            }
        }
    }

    @Test
    void nbdinfoListsExports() throws Exception {
        String nbdinfo = requireTool("nbdinfo");
        try (var f = new NbdTestSupport.Fixture(dir,
                new NbdExport("alpha", "first", volumes.create("alpha", M)),
                new NbdExport("beta", "second", volumes.createReadOnly("beta", 2 * M)))) {
            String out = runOk(nbdinfo, "--list", "nbd+unix:///?socket=" + f.socket).out();
            assertTrue(out.contains("export=\"alpha\"") && out.contains("export=\"beta\""), out);
            assertTrue(out.contains("first") && out.contains("second"), out);
            out = runOk(nbdinfo, "--list", "--json", f.tcpUri("")).out();
            assertTrue(out.contains("\"alpha\"") && out.contains("\"beta\""), out);
        }
    }

    @Test
    void nbdinfoMapAfterTrim() throws Exception {
        String nbdinfo = requireTool("nbdinfo");
        String nbdsh = requireTool("nbdsh");
        CountingVolume v = volumes.create("vol", 4L * M);
        v.write(0, ByteBuffer.wrap(QemuClientsTest.filled(2 * M, (byte) 7)), false);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            runOk(nbdsh, "-u", f.unixUri("vol"), "-c", "h.trim(524288, 524288)");
            for (String uri : f.uris("vol")) {
                String out = runOk(nbdinfo, "--map", uri).out();
                List<long[]> rows = new ArrayList<>();
                for (String line : out.strip().split("\n")) {
                    String[] p = line.strip().split("\\s+");
                    rows.add(new long[]{Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])});
                }
                long[][] expected = {{0, 512 * K, 0}, {512 * K, 512 * K, 3}, {M, M, 0}, {2 * M, 2 * M, 3}};
                assertEquals(expected.length, rows.size(), out);
                for (int i = 0; i < expected.length; i++) {
                    assertArrayEquals(expected[i], rows.get(i), out);
                }
                assertTrue(out.contains("hole,zero") && out.contains("data"), out);
            }
        }
    }

    @Test
    void nbdcopyRoundTrip64MiB() throws Exception {
        roundTrip(64);
    }

    /** The acceptance size; a few seconds here. */
    @Test
    void nbdcopyRoundTrip256MiB() throws Exception {
        roundTrip(256);
    }

    private void roundTrip(int mib) throws Exception {
        String nbdcopy = requireTool("nbdcopy");
        long size = (long) mib * M;
        Path source = dir.resolve("source.img");
        Path back = dir.resolve("back.img");
        Random random = new Random(mib);
        try (var out = Files.newOutputStream(source)) {
            byte[] chunk = new byte[M];
            for (int i = 0; i < mib; i++) {
                if (i % 8 == 3) {
                    out.write(new byte[M]); // zero stretches: nbdcopy turns them into zero requests
                } else {
                    random.nextBytes(chunk);
                    out.write(chunk);
                }
            }
        }
        CountingVolume v = volumes.create("vol", size);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            runOk(nbdcopy, "--flush", source.toString(), f.unixUri("vol"));
            assertTrue(v.flushes.get() >= 1, "nbdcopy --flush reached the volume");
            runOk(nbdcopy, f.tcpUri("vol"), back.toString());
        }
        assertEquals(-1L, Files.mismatch(source, back), "round trip through the NBD server changed the image");
        byte[] first = new byte[M];
        try (var in = Files.newInputStream(source)) {
            assertEquals(M, in.readNBytes(first, 0, M));
        }
        assertArrayEquals(first, v.bytes(0, M));
    }
}
