package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** fio's nbd ioengine (libnbd inside fio): random writes with CRC32C verification, deep queues. */
@ParameterizedClass
@EnumSource(Backend.class)
class FioTest extends BothBackends {

    @Test
    void randwriteVerifyCrc32cOverUnixAndTcp() throws Exception {
        String fio = requireTool("fio");
        CountingVolume v = volumes.create("vol", 64L * 1024 * 1024);
        try (var f = new NbdTestSupport.Fixture(dir, new NbdExport("vol", v))) {
            for (String uri : f.uris("vol")) {
                var r = runOk(fio, "--name=randwrite-verify", "--ioengine=nbd", "--uri=" + uri,
                        "--rw=randwrite", "--bs=4k", "--bsrange=4k-64k", "--size=32m", "--iodepth=32",
                        "--numjobs=2", "--offset_increment=32m", "--verify=crc32c", "--do_verify=1",
                        "--verify_fatal=1", "--verify_state_save=0", "--group_reporting");
                assertFalse(r.all().contains("verify: bad"), r.all());
                System.out.println(r.out());
                // The write phase and the read-back verify phase both ran.
                assertTrue(r.out().contains("WRITE: bw=") && r.out().contains("READ: bw="), r.out());
            }
            assertTrue(v.writes.get() > 1000, "writes reached the volume: " + v.writes);
        }
    }
}
