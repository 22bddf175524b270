package dev.strata.node.cli;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.util.DirectIoMode;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import dev.strata.node.control.ControlServer;
import dev.strata.node.control.VolumeControl;
import dev.strata.node.nbd.NbdExport;
import dev.strata.node.nbd.NbdServer;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * {@code strata serve}: creates or opens a volume and serves it over NBD until Ctrl-C or
 * SIGTERM, then closes cleanly (flush, upload, checkpoint, release the volume) and exits 0.
 */
final class ServeCommand {
    static final Set<String> FLAGS;
    static final Set<String> SWITCHES;

    static {
        Set<String> f = new HashSet<>(StoreSettings.FLAGS);
        f.addAll(Set.of("volume", "size", "socket", "listen", "flush-mode", "control", "coalescer",
                "large-write-bypass", "cache-size", "cache-direct-io"));
        FLAGS = Set.copyOf(f);
        Set<String> s = new HashSet<>(StoreSettings.SWITCHES);
        s.addAll(Set.of("take-over", "no-socket"));
        SWITCHES = Set.copyOf(s);
    }

    /** A size flag that may also be 'off' (or 0): 0, or a multiple of 4096 up to {@code max} bytes. */
    private static int sizeOrOff(Args args, String flag, String what, int max, String maxText) {
        String v = args.get(flag, "off");
        long bytes = v.equals("off") || v.equals("0") ? 0 : Args.parseSize(flag, v);
        if (bytes % 4096 != 0 || bytes > max) {
            throw new Args.UsageException("--" + flag + ": " + what + "'off' or a multiple of 4096 up to " + maxText + ", not '" + v + "'");
        }
        return (int) bytes;
    }

    static int run(Args args, PrintStream out) throws Exception {
        StoreSettings where = StoreSettings.from(args);
        String name = args.get("volume", "vol0");
        try {
            VolumeKeys.validateName(name);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--volume: " + e.getMessage());
        }
        long size = Args.parseVolumeSize("size", args.get("size", "4GiB"));
        InetSocketAddress listen = args.has("listen") ? parseListen(args.get("listen", null)) : null;
        if (listen == null && args.isSet("no-socket")) {
            throw new Args.UsageException("--no-socket needs --listen");
        }
        VolumeOptions options = VolumeOptions.defaults();
        String mode = args.get("flush-mode", "journal");
        switch (mode) {
            case "journal" -> { }
            case "bucket" -> options = options.withFlushMode(VolumeOptions.FlushMode.BUCKET);
            default -> throw new Args.UsageException("--flush-mode: 'journal' or 'bucket', not '" + mode + "'");
        }
        if (args.has("coalescer")) {
            options = options.withCoalescer(sizeOrOff(args, "coalescer", "cluster size ", 4 << 20, "4MiB"));
        }
        if (args.has("large-write-bypass")) {
            options = options.withLargeWriteBypass(sizeOrOff(args, "large-write-bypass", "", 32 << 20, "32MiB"));
        }
        if (args.has("cache-size")) {
            String v = args.get("cache-size", "1GiB");
            long bytes = v.equals("off") || v.equals("0") ? 0 : Args.parseSize("cache-size", v);
            if (bytes != 0 && bytes < 1 << 20) {
                throw new Args.UsageException("--cache-size: 'off' or at least 1MiB, not '" + v + "'");
            }
            options = options.withReadCache(options.readCache().withSizeBytes(bytes));
        }
        if (args.has("cache-direct-io")) {
            String io = args.get("cache-direct-io", "auto");
            DirectIoMode directIo = switch (io) {
                case "auto" -> DirectIoMode.AUTO;
                case "on" -> DirectIoMode.ON;
                case "off" -> DirectIoMode.OFF;
                default -> throw new Args.UsageException("--cache-direct-io: 'auto', 'on' or 'off', not '" + io + "'");
            };
            options = options.withReadCache(options.readCache().withDirectIo(directIo));
        }
        // Every argument is checked before this point: nothing is created for a command-line mistake.
        // The handlers go in before the volume opens, so a SIGTERM during the open still ends in a clean close.
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Files.createDirectories(where.dir);
        StrataEngine engine = new StrataEngine(where.open(), where.localDir());
        if (!engine.exists(name)) {
            engine.createVolume(name, size);
            out.println("created volume " + name + " (" + size + " bytes) in " + where.describe());
        } else if (args.has("size") && engine.superblock(name).sizeBytes() != size) {
            out.println("note: volume " + name + " exists with size " + engine.superblock(name).sizeBytes()
                    + " bytes; --size applies only at creation");
        }
        LogStructuredVolume volume = engine.openForWrite(name, options, args.isSet("take-over"));
        NbdServer.Builder nb = NbdServer.builder()
                .export(new NbdExport(name, "Strata volume " + name + " (" + where.describe() + ")", volume));
        if (!args.isSet("no-socket")) {
            nb.unixSocket(Path.of(args.get("socket", where.dir.resolve(name + ".sock").toString())).toAbsolutePath());
        }
        if (listen != null) {
            nb.tcp(listen.getHostString(), listen.getPort());
        }
        NbdServer server = nb.build();
        ControlServer control;
        try {
            server.start();
            // Snapshots (and flush, status) of the held volume go through this process: docs/control.md.
            control = ControlServer.start(where.controlSocket(name), new VolumeControl(engine, volume,
                    () -> Map.of("nbd-connections", Integer.toString(server.connectionCount()),
                            "nbd-endpoints", server.endpoints().toString().replace(" ", ""))));
        } catch (Exception e) {
            // e.g. the port or a socket is in use (start() closed the listeners): close the volume before failing
            server.close();
            volume.close();
            engine.close();
            throw e;
        }
        out.println("serving volume " + name + " (" + volume.size() + " bytes, epoch " + volume.epoch() + ") from "
                + where.describe());
        for (URI uri : server.endpoints()) {
            out.println("nbd endpoint: " + uri);
        }
        out.println("control socket: " + control.path());
        out.flush();

        stop.await();
        out.println("stopping: finishing control requests, closing connections, flushing, uploading, checkpointing...");
        out.flush();
        control.close();
        server.close();
        volume.close();
        engine.close();
        out.println("stopped cleanly");
        return 0;
    }

    /** {@code HOST:PORT} or {@code [IPV6]:PORT}, port 0-65535 (0: any free port, printed in the endpoint). */
    static InetSocketAddress parseListen(String hp) {
        int colon = hp.lastIndexOf(':');
        if (colon < 0) {
            throw new Args.UsageException("--listen: HOST:PORT, not '" + hp + "'");
        }
        int port;
        try {
            port = Integer.parseInt(hp.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new Args.UsageException("--listen: bad port in '" + hp + "' (0-65535)");
        }
        String host = hp.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
