package dev.strata.node.nbd;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

/**
 * Base of the real-client test classes: every test runs twice, against the test-only
 * MemoryVolume and against the real engine (subclasses carry {@code @ParameterizedClass
 * @EnumSource(Backend.class)}).
 */
abstract class BothBackends {
    @TempDir
    Path dir;

    @Parameter
    Backend backend;

    Backend.Volumes volumes;

    @BeforeEach
    void openVolumes() throws Exception {
        volumes = backend.open(dir);
    }

    @AfterEach
    void closeVolumes() throws Exception {
        volumes.close();
    }
}
