package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata volume inspect} reports the live fraction and what a GC pass would free (docs/gc.md). */
class InspectShowsLiveDataAndWhatGcWouldFreeTest {
    @TempDir
    Path tmp;

    private String inspect() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = StrataMain.run(new String[] {"volume", "inspect", "vol0", "--dir", tmp.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, exit);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anOverwrittenHalfShowsAsGarbageGcWouldFree() throws Exception {
        int object = 1 << 20;
        VolumeOptions opts = VolumeOptions.defaults().withObjectBytes(object).withGc(GcOptions.defaults().withEnabled(false));
        try (StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"))) {
            engine.createVolume("vol0", 16L << 20);
            try (LogStructuredVolume v = engine.openForWrite("vol0", opts, false)) {
                ByteBuffer data = ByteBuffer.allocate(object);
                for (int i = 0; i < 8; i++) {
                    v.write((long) i * object, data.clear(), false);
                    v.flushToBucket();
                }
                // Objects 1-4 entirely overwritten: dead, freed without a copy.
                for (int i = 0; i < 4; i++) {
                    v.write((long) i * object, data.clear(), false);
                }
            }
        }
        String out = inspect();
        Matcher live = Pattern.compile("live +(\\d+) of (\\d+) data bytes in (\\d+) objects").matcher(out);
        assertTrue(live.find(), out);
        assertEquals(8L << 20, Long.parseLong(live.group(1)), out);
        assertEquals(12L << 20, Long.parseLong(live.group(2)), out);
        Matcher gc = Pattern.compile("gc +would free (\\d+) objects \\((\\d+) bytes\\) by copying (\\d+) live bytes").matcher(out);
        assertTrue(gc.find(), out);
        assertEquals(4, Integer.parseInt(gc.group(1)), out);
        assertEquals(4L << 20, Long.parseLong(gc.group(2)), out);
        assertEquals(0, Long.parseLong(gc.group(3)), out);
    }
}
