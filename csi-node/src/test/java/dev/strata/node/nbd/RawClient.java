package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A hand-written NBD client that can send anything, including garbage. Test-only. */
final class RawClient implements AutoCloseable {
    final SocketChannel ch;

    RawClient(Path socket) throws IOException {
        ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    record OptionReply(int option, int type, byte[] data) {}

    record Chunk(int flags, int type, long handle, byte[] payload) {}

    /** Reads the server greeting and returns the handshake flags. */
    int greeting() throws IOException {
        ByteBuffer b = read(18);
        assertEquals(NBDMAGIC, b.getLong());
        assertEquals(IHAVEOPT, b.getLong());
        return Short.toUnsignedInt(b.getShort());
    }

    void clientFlags(int flags) throws IOException {
        write(ByteBuffer.allocate(4).putInt(flags).flip());
    }

    /** Greeting plus fixed-newstyle and no-zeroes client flags. */
    RawClient hello() throws IOException {
        greeting();
        clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        return this;
    }

    void option(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data).flip());
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = read(20);
        assertEquals(OPTION_REPLY_MAGIC, h.getLong());
        int option = h.getInt();
        int type = h.getInt();
        int length = h.getInt();
        return new OptionReply(option, type, read(length).array());
    }

    static byte[] goPayload(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n)
                .putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    /** NBD_OPT_GO for {@code name}; returns the final reply (ACK on success). */
    OptionReply go(String name) throws IOException {
        option(OPT_GO, goPayload(name));
        while (true) {
            OptionReply r = optionReply();
            if (r.type() != REP_INFO) {
                return r;
            }
        }
    }

    void request(int flags, int type, long handle, long offset, long length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle).putLong(offset)
                .putInt((int) length);
        if (payload != null) {
            b.put(payload);
        }
        write(b.flip());
    }

    /** A simple reply: {error, handle}. */
    long[] simpleReply() throws IOException {
        ByteBuffer b = read(16);
        assertEquals(SIMPLE_REPLY_MAGIC, b.getInt());
        int error = b.getInt();
        return new long[]{error, b.getLong()};
    }

    Chunk chunk() throws IOException {
        ByteBuffer b = read(20);
        assertEquals(STRUCTURED_REPLY_MAGIC, b.getInt());
        int flags = Short.toUnsignedInt(b.getShort());
        int type = Short.toUnsignedInt(b.getShort());
        long handle = b.getLong();
        int length = b.getInt();
        return new Chunk(flags, type, handle, read(length).array());
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        NbdIo.readExactly(ch, b);
        return b.flip();
    }

    void write(ByteBuffer b) throws IOException {
        NbdIo.writeFully(ch, b);
    }

    /** True when the server closes the connection within 5 s (reads and discards anything sent before). */
    boolean closedByServer() throws Exception {
        CompletableFuture<Boolean> f = CompletableFuture.supplyAsync(() -> {
            ByteBuffer b = ByteBuffer.allocate(65536);
            try {
                while (true) {
                    b.clear();
                    if (ch.read(b) < 0) {
                        return true;
                    }
                }
            } catch (IOException e) {
                return true; // reset by the server counts as closed
            }
        });
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
