package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * libnbd's nbdsh (Python) scripts: flags, FUA, flush, trim, zeroes, block status, structured
 * reads, the error replies (strict mode off so libnbd sends what it would normally refuse),
 * LIST/INFO in option mode, several connections at once. Each script runs over Unix and TCP.
 */
@ParameterizedClass
@EnumSource(Backend.class)
class NbdshTest {
    private static final long SIZE = 64L * 1024 * 1024;

    /** Shared by every script: the URI, the size and an errno assertion. */
    private static final String PRELUDE = """
            import os, errno
            uri = os.environ['URI']
            uri_ro = os.environ['URI_RO']
            SIZE = int(os.environ['SIZE'])
            def expect_errno(fn, code):
                try:
                    fn()
                except nbd.Error as e:
                    assert e.errnum == code, "expected errno %d, got %r" % (code, e)
                    return
                raise AssertionError("expected errno %d, got success" % code)
            """;

    /** Every test runs twice: against the test-only MemoryVolume and against the real engine. */
    @Parameter
    Backend backend;

    @TempDir
    Path dir;
    Backend.Volumes volumes;
    CountingVolume volume;
    CountingVolume readOnly;
    NbdTestSupport.Fixture fixture;

    @BeforeEach
    void start() throws Exception {
        volumes = backend.open(dir);
        volume = volumes.create("vol", SIZE);
        readOnly = volumes.createReadOnly("ro", 8L * 1024 * 1024);
        fixture = new NbdTestSupport.Fixture(dir, new NbdExport("vol", "test volume", volume),
                new NbdExport("ro", "read-only snapshot", readOnly));
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
        volumes.close();
    }

    private void script(String body) throws Exception {
        String nbdsh = requireTool("nbdsh");
        boolean[] tcp = {false, true};
        for (boolean t : tcp) {
            String uri = t ? fixture.tcpUri("vol") : fixture.unixUri("vol");
            String uriRo = t ? fixture.tcpUri("ro") : fixture.unixUri("ro");
            var r = NbdTestSupport.run(Duration.ofSeconds(120),
                    Map.of("URI", uri, "URI_RO", uriRo, "SIZE", Long.toString(SIZE)),
                    nbdsh, "-c", PRELUDE + body + "\nprint('PASS')\n");
            if (r.exit() != 0 || !r.out().contains("PASS")) {
                fail("nbdsh script failed over " + uri + " (exit " + r.exit() + ")\n" + r.out() + r.err());
            }
        }
    }

    @Test
    void advertisedFlagsFuaFlushAndCache() throws Exception {
        script("""
                h.add_meta_context("base:allocation")
                h.connect_uri(uri)
                assert h.get_size() == SIZE
                assert h.can_fua() and h.can_flush() and h.can_trim() and h.can_zero()
                assert h.can_fast_zero() and h.can_cache() and h.can_multi_conn()
                assert not h.is_read_only()
                assert not h.can_df()
                assert h.get_structured_replies_negotiated()
                assert h.can_meta_context("base:allocation")
                assert h.get_block_size(nbd.SIZE_MINIMUM) == 512
                assert h.get_block_size(nbd.SIZE_PREFERRED) == 4096
                assert h.get_block_size(nbd.SIZE_MAXIMUM) == 32 * 1024 * 1024
                buf = b"\\xa5" * 65536
                h.pwrite(buf, 0, nbd.CMD_FLAG_FUA)
                h.flush()
                assert h.pread(65536, 0) == buf
                h.cache(65536, 0)
                h.shutdown()
                """);
        assertTrue(volume.fuaWrites.get() >= 2, "FUA writes: " + volume.fuaWrites);
        assertTrue(volume.flushes.get() >= 2, "flushes: " + volume.flushes);
    }

    @Test
    void trimZeroesBlockStatusAndStructuredReads() throws Exception {
        script("""
                h.add_meta_context("base:allocation")
                h.connect_uri(uri)
                K = 1024
                h.zero(SIZE, 0)      # start from an empty volume on each transport
                h.pwrite(b"\\x01" * (1024 * K), 0)
                h.trim(256 * K, 256 * K)
                h.zero(128 * K, 512 * K, nbd.CMD_FLAG_FAST_ZERO)
                h.zero(128 * K, 640 * K, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FUA)
                entries = []
                def cb(metacontext, offset, e, err):
                    assert metacontext == "base:allocation", metacontext
                    assert offset == 0
                    entries.extend(e)
                    return 0
                h.block_status(2048 * K, 0, cb)
                assert entries == [256 * K, 0, 512 * K, 3, 256 * K, 0, 1024 * K, 3], entries
                one = []
                h.block_status(2048 * K, 0, lambda m, o, e, err: one.extend(e) or 0, nbd.CMD_FLAG_REQ_ONE)
                assert one == [256 * K, 0], one
                assert h.pread(512 * K, 256 * K) == bytes(512 * K)
                assert h.pread(256 * K, 0) == b"\\x01" * (256 * K)
                chunks = []
                def chunk(buf, offset, status, err):
                    chunks.append((offset, len(buf), status))
                    return 0
                h.pread_structured(1024 * K, 0, chunk)
                kinds = set(c[2] for c in chunks)
                assert nbd.READ_HOLE in kinds and nbd.READ_DATA in kinds, chunks
                assert sum(c[1] for c in chunks) == 1024 * K, chunks
                whole = []
                h.pread_structured(1024 * K, 4096 * K, lambda b, o, s, e: whole.append(s) or 0)
                assert whole == [nbd.READ_HOLE], whole
                h.shutdown()
                """);
        assertTrue(volume.trims.get() >= 2 && volume.zeroes.get() >= 6);
    }

    /**
     * A range with more data/hole runs than one reply carries (16 per read, 64 per block
     * status): reads still return every byte written, and each descriptor is exact.
     */
    @Test
    void readsAndBlockStatusOverManyAlternatingRunsAreExact() throws Exception {
        script("""
                h.add_meta_context("base:allocation")
                h.connect_uri(uri)
                K = 1024
                base = 8 * 1024 * K
                h.zero(2048 * K, base)
                expected = bytearray(2048 * K)
                for i in range(128):               # 4 KiB of data every 16 KiB: 256 runs
                    data = bytes([1 + i % 250]) * (4 * K)
                    h.pwrite(data, base + i * 16 * K)
                    expected[i * 16 * K:i * 16 * K + 4 * K] = data
                assert h.pread(2048 * K, base) == expected, "plain read lost data"
                got = bytearray(2048 * K)
                def chunk(buf, offset, status, err):
                    rel = offset - base
                    if status == nbd.READ_HOLE:
                        assert expected[rel:rel + len(buf)] == bytes(len(buf)), "hole chunk over data at %d+%d" % (rel, len(buf))
                    got[rel:rel + len(buf)] = buf
                    return 0
                h.pread_structured(2048 * K, base, chunk)
                assert got == expected, "structured read lost data"
                entries = []
                h.block_status(2048 * K, base, lambda m, o, e, err: entries.extend(e) or 0)
                pos = 0
                for k in range(0, len(entries), 2):
                    length, flags = entries[k], entries[k + 1]
                    hole = (flags & 1) != 0
                    for p in range(pos, pos + length, 4 * K):
                        is_data = (p // K) % 16 < 4
                        assert is_data != hole, "descriptor %d (%d+%d flags %d) wrong at %d" % (k // 2, pos, length, flags, p)
                    pos += length
                assert len(entries) // 2 <= 64, len(entries)
                one = []
                h.block_status(2048 * K, base, lambda m, o, e, err: one.extend(e) or 0, nbd.CMD_FLAG_REQ_ONE)
                assert one == [4 * K, 0], one
                h.shutdown()
                """);
    }

    @Test
    void errorReplies() throws Exception {
        script("""
                h.set_strict_mode(0)
                h.add_meta_context("base:allocation")
                h.connect_uri(uri)
                expect_errno(lambda: h.pread(4096, SIZE), errno.EINVAL)              # read past the end
                expect_errno(lambda: h.pread(8192, SIZE - 4096), errno.EINVAL)       # read across the end
                expect_errno(lambda: h.pwrite(b"x" * 4096, SIZE), errno.ENOSPC)      # write past the end
                expect_errno(lambda: h.zero(8192, SIZE - 4096), errno.ENOSPC)        # zeroes past the end
                expect_errno(lambda: h.trim(4096, SIZE), errno.EINVAL)               # trim past the end
                expect_errno(lambda: h.cache(4096, SIZE), errno.EINVAL)
                expect_errno(lambda: h.block_status(4096, SIZE, lambda *a: 0), errno.EINVAL)
                expect_errno(lambda: h.pread(100, 0), errno.EINVAL)                  # unaligned length
                expect_errno(lambda: h.pread(512, 100), errno.EINVAL)                # unaligned offset
                expect_errno(lambda: h.pread(33 * 1024 * 1024, 0), errno.EINVAL)     # over the maximum
                expect_errno(lambda: h.pwrite(b"y" * (33 * 1024 * 1024), 0), errno.EINVAL)
                expect_errno(lambda: h.pread(4096, 0, nbd.CMD_FLAG_DF), errno.EINVAL)  # DF not offered
                expect_errno(lambda: h.pread(0, 0), errno.EINVAL)                    # zero length
                expect_errno(lambda: h.pread(4096, 0, nbd.CMD_FLAG_REQ_ONE), errno.EINVAL)  # flag not valid for READ
                expect_errno(lambda: h.trim(4096, 0, nbd.CMD_FLAG_NO_HOLE), errno.EINVAL)   # flag not valid for TRIM
                # the connection is still good after all that
                h.pwrite(b"z" * 4096, 0)
                assert h.pread(4096, 0) == b"z" * 4096

                # Simple replies only: errors still come back as errno, reads still work.
                s = nbd.NBD()
                s.set_strict_mode(0)
                s.set_request_structured_replies(False)
                s.connect_uri(uri)
                assert not s.get_structured_replies_negotiated()
                expect_errno(lambda: s.pread(4096, SIZE), errno.EINVAL)
                expect_errno(lambda: s.pwrite(b"x" * 4096, SIZE), errno.ENOSPC)
                assert s.pread(4096, 0) == b"z" * 4096
                expect_errno(lambda: s.block_status(4096, 0, lambda *a: 0), errno.EINVAL)  # nothing negotiated
                s.shutdown()

                # Read-only export: writes, trims and zeroes are refused with EPERM.
                r = nbd.NBD()
                r.set_strict_mode(0)
                r.connect_uri(uri_ro)
                assert r.is_read_only() and not r.can_trim() and not r.can_zero()
                expect_errno(lambda: r.pwrite(b"x" * 4096, 0), errno.EPERM)
                expect_errno(lambda: r.trim(4096, 0), errno.EPERM)
                expect_errno(lambda: r.zero(4096, 0), errno.EPERM)
                expect_errno(lambda: r.pwrite(b"x" * 4096, 0, nbd.CMD_FLAG_FUA), errno.EPERM)
                assert r.pread(4096, 0) == bytes(4096)
                r.flush()
                r.shutdown()
                """);
        assertEquals(0, readOnly.writes.get());
        assertEquals(0, readOnly.allocatedBytes());
    }

    @Test
    void listInfoAndMetaContextsInOptionMode() throws Exception {
        script("""
                h.set_opt_mode(True)
                h.connect_uri(uri)
                names = []
                h.opt_list(lambda name, desc: names.append((name, desc)) or 0)
                assert names == [("vol", "test volume"), ("ro", "read-only snapshot")], names
                ctxs = []
                h.opt_list_meta_context(lambda name: ctxs.append(name) or 0)
                assert ctxs == ["base:allocation"], ctxs
                h.set_export_name("no-such-export")
                try:
                    h.opt_info()
                    raise AssertionError("INFO on an unknown export succeeded")
                except nbd.Error as e:
                    pass
                h.set_export_name("ro")
                h.opt_info()
                assert h.get_size() == 8 * 1024 * 1024 and h.is_read_only()
                h.set_export_name("vol")
                h.set_full_info(True)
                h.add_meta_context("base:allocation")
                h.opt_go()
                assert h.get_size() == SIZE and not h.is_read_only()
                assert h.get_canonical_export_name() == "vol"
                assert h.get_export_description() == "test volume"
                assert h.can_meta_context("base:allocation")
                h.pread(512, 0)
                h.shutdown()

                # The default export (empty name) is the first one.
                d = nbd.NBD()
                d.set_opt_mode(True)
                d.connect_uri(uri)
                d.set_export_name("")
                d.opt_go()
                assert d.get_size() == SIZE
                d.shutdown()

                a = nbd.NBD()
                a.set_opt_mode(True)
                a.connect_uri(uri)
                a.opt_abort()
                """);
    }

    @Test
    void severalConnectionsAndPipelinedRequests() throws Exception {
        script("""
                M = 1024 * 1024
                hs = [nbd.NBD() for i in range(4)]
                for x in hs:
                    x.connect_uri(uri)
                assert all(x.can_multi_conn() for x in hs)
                for i, x in enumerate(hs):
                    x.pwrite(bytes([i + 1]) * M, i * M)
                hs[0].flush()      # multi-conn: covers the writes completed on the other connections
                for i in range(4):
                    assert hs[3].pread(M, i * M) == bytes([i + 1]) * M
                # Many requests in flight on one connection, replies in any order.
                x = hs[1]
                bufs = [nbd.Buffer.from_bytearray(bytearray([0x40 + k % 50]) * 4096) for k in range(512)]
                for k in range(512):
                    x.aio_pwrite(bufs[k], 8 * M + k * 4096)
                while x.aio_in_flight() > 0:
                    x.poll(-1)
                reads = [x.aio_pread(nbd.Buffer(4096), 8 * M + k * 4096) for k in range(512)]
                while x.aio_in_flight() > 0:
                    x.poll(-1)
                for k in range(512):
                    assert hs[2].pread(4096, 8 * M + k * 4096) == bytes([0x40 + k % 50]) * 4096, k
                for x in hs:
                    x.shutdown()
                """);
    }
}
