package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata snapshot create|list|delete} and {@code strata volume clone} against an embedded store. */
class SnapshotCommandTest {
    @TempDir
    Path tmp;

    record Outcome(int exit, String out, String err) {}

    private Outcome run(String... args) {
        List<String> argv = new ArrayList<>(List.of(args));
        argv.addAll(List.of("--dir", tmp.resolve("data").toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = StrataMain.run(argv.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void createListCloneAndDeletesThatTheCloneOutlives() {
        assertEquals(0, run("volume", "create", "vol0", "--size", "16MiB").exit());
        Outcome created = run("snapshot", "create", "--volume", "vol0", "--name", "s1");
        assertEquals(0, created.exit(), created.err());
        assertTrue(created.out().contains("created snapshot vol0@s1"), created.out());
        Outcome taken = run("snapshot", "create", "--volume", "vol0", "--name", "s1");
        assertEquals(1, taken.exit());
        assertTrue(taken.err().contains("already exists"), taken.err());

        Outcome clone = run("volume", "clone", "--from", "vol0@s1", "--volume", "vol1");
        assertEquals(0, clone.exit(), clone.err());
        assertTrue(clone.out().contains("clone of vol0@s1"), clone.out());
        Outcome list = run("snapshot", "list", "--volume", "vol0");
        assertTrue(list.out().startsWith("s1") && list.out().contains("[vol1]"), list.out());
        Outcome inspect = run("volume", "inspect", "vol1");
        assertTrue(inspect.out().contains("parent      vol0@s1"), inspect.out());

        Outcome hidden = run("snapshot", "delete", "--volume", "vol0", "--name", "s1");
        assertEquals(0, hidden.exit(), hidden.err());
        assertTrue(hidden.out().contains("vol1") && hidden.out().contains("kept"), hidden.out());
        assertTrue(run("snapshot", "list", "--volume", "vol0").out().isEmpty(), "a deleted snapshot is not listed");
        Outcome reserved = run("snapshot", "create", "--volume", "vol0", "--name", "s1");
        assertEquals(1, reserved.exit());
        assertTrue(reserved.err().contains("vol1"), reserved.err());

        Outcome volumeDeleted = run("volume", "delete", "vol0");
        assertEquals(0, volumeDeleted.exit(), volumeDeleted.err());
        assertTrue(volumeDeleted.out().contains("vol1 (via vol0@s1)"), volumeDeleted.out());
        assertEquals(0, run("volume", "inspect", "vol1").exit(), "the clone still works");
        assertTrue(run("volume", "list").out().contains("vol1") && !run("volume", "list").out().contains("vol0"));
        Outcome reuse = run("volume", "create", "vol0", "--size", "16MiB");
        assertEquals(1, reuse.exit());
        assertTrue(reuse.err().contains("vol1"), reuse.err());
        assertEquals(0, run("volume", "delete", "vol1").exit());
        assertEquals(0, run("volume", "create", "vol0", "--size", "16MiB").exit(), "the name is free once the clone is gone");

        assertEquals(0, run("snapshot", "create", "--volume", "vol0", "--name", "s2").exit());
        assertEquals(0, run("snapshot", "delete", "--volume", "vol0", "--name", "s2").exit());
        assertEquals(2, run("snapshot", "create", "--volume", "vol0", "--name", "bad.name").exit());
        assertEquals(2, run("volume", "clone", "--from", "vol0", "--volume", "vol2").exit());
    }
}
