package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata volume delete} of a volume with many objects prints its progress on standard error. */
class VolumeDeleteProgressTest {
    @TempDir
    Path tmp;

    private String[] run(String... args) {
        String[] argv = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--dir", tmp.resolve("data").toString())).toArray(String[]::new);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = StrataMain.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[]{Integer.toString(exit), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void deleteReportsProgress() throws Exception {
        assertEquals("0", run("volume", "create", "vol0", "--size", "16MiB")[0]);
        VolumeKeys keys = new VolumeKeys("vol0");
        try (LocalDirectoryObjectStore store = new LocalDirectoryObjectStore(tmp.resolve("data/bucket"))) {
            for (int i = 1; i <= 600; i++) {
                store.put(keys.object(i, 1), ByteBuffer.wrap(new byte[16]));
            }
        }
        // A short run prints nothing: progress is for long ones.
        assertEquals("0", run("volume", "create", "vol9", "--size", "16MiB")[0]);
        String[] quiet = run("volume", "delete", "vol9");
        assertEquals("0", quiet[0], quiet[2]);
        assertFalse(quiet[2].contains("deleting volume"), quiet[2]);

        long every = ProgressPrinter.everyNanos;
        ProgressPrinter.everyNanos = 1_000_000; // a line every millisecond instead of every second
        try {
            String[] r = run("volume", "delete", "vol0");
            assertEquals("0", r[0], r[2]);
            assertTrue(r[1].contains("deleted volume vol0 (602 keys)"), r[1]);
            List<String> lines = r[2].lines().filter(l -> l.startsWith("deleting volume vol0: ")).toList();
            assertTrue(lines.size() >= 2, r[2]);
            assertTrue(lines.getLast().startsWith("deleting volume vol0: 600/600 keys"), r[2]);
            assertTrue(lines.getFirst().matches("deleting volume vol0: [0-9]+/600 keys \\([0-9]+ s\\)"), lines.getFirst());
        } finally {
            ProgressPrinter.everyNanos = every;
        }
    }
}
