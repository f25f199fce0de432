package dev.nodekit.crishim;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Connection;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Flags;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameListener;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Settings;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Stream;

/**
 * One HTTP/2 connection of the frame front: a client's (kubelet's, server role) or the shared one
 * to a backend (client role). It hands every frame of a stream to the stream's {@link FrameRelay}
 * and writes what relays send; all of it on the front's one event loop, so nothing here locks.
 *
 * <p>Inbound DATA is not acknowledged when read: the relay returns the bytes to the flow-control
 * window ({@link #consumed}) once the other side's socket has taken them, so a slow reader on one
 * side stops the writer on the other, and at most a window of data is held per stream.
 */
final class FrameLink extends Http2ConnectionHandler implements Http2FrameListener {
    /**
     * Per-stream window we grant: large enough that a 16 MiB message is not a ping-pong of 64 KiB,
     * small enough that a call whose reader stalls holds little of the shared connection's window.
     */
    static final int STREAM_WINDOW = 512 * 1024;
    /**
     * Connection window we grant: bounds what one connection can make the shim hold, and takes 32
     * stalled calls before the shared runtime connection stalls for everyone.
     */
    static final int CONNECTION_WINDOW = 16 * 1024 * 1024;
    /** Largest header block accepted, as the gRPC server allows (grpc-message can be long). */
    static final int MAX_HEADER_LIST = 1024 * 1024;
    private static final Logger log = LoggerFactory.getLogger(FrameLink.class);

    private final FrameFront front;
    private final FrameBackend backend;
    private final Http2Connection.PropertyKey relayKey;
    private ChannelHandlerContext ctx;
    private boolean dirty;
    private boolean retired;
    private Throwable failure;

    private FrameLink(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings,
            FrameFront front, FrameBackend backend) {
        super(decoder, encoder, settings);
        this.front = front;
        this.backend = backend;
        this.relayKey = connection().newKey();
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                FrameRelay r = stream.getProperty(relayKey);
                if (r != null) {
                    r.streamClosed(FrameLink.this);
                }
                if (retired && connection().numActiveStreams() == 0 && ctx != null) {
                    ctx.close();
                }
            }
        });
    }

    /** A link for a connection a client opened to the shim. */
    static FrameLink forClient(FrameFront front, long gracefulShutdownMillis) {
        return new Builder(front, null, true, gracefulShutdownMillis).build();
    }

    /** A link for the shim's connection to {@code backend}. */
    static FrameLink forBackend(FrameFront front, FrameBackend backend) {
        return new Builder(front, backend, false, 30_000).build();
    }

    boolean isClientSide() {
        return backend == null;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    /** Whether new streams may be opened here: connected, preface sent, no GOAWAY either way. */
    boolean usable() {
        return ctx != null && !retired && ctx.channel().isActive() && !connection().goAwayReceived()
                && !connection().goAwaySent();
    }

    /** No new streams; closes once the streams still open have ended (HTTP/2 graceful close). */
    void retire() {
        if (!retired) {
            retired = true;
            if (ctx != null && connection().numActiveStreams() == 0) {
                ctx.close();
            }
        }
    }

    void bind(Http2Stream stream, FrameRelay relay) {
        stream.setProperty(relayKey, relay);
    }

    // ---- writes (the front flushes every written link once per event-loop turn) ----

    void sendHeaders(int streamId, Http2Headers headers, boolean endStream) {
        encoder().writeHeaders(ctx, streamId, headers, 0, endStream, ctx.newPromise());
        front.markDirty(this);
    }

    ChannelFuture sendData(int streamId, ByteBuf data, boolean endStream) {
        ChannelPromise p = ctx.newPromise();
        encoder().writeData(ctx, streamId, data, 0, endStream, p);
        front.markDirty(this);
        return p;
    }

    void sendReset(int streamId, long errorCode) {
        resetStream(ctx, streamId, errorCode, ctx.newPromise());
        front.markDirty(this);
    }

    /** Returns {@code bytes} of {@code stream}'s inbound DATA to the peer's window (a WINDOW_UPDATE when due). */
    void consumed(Http2Stream stream, int bytes) {
        if (bytes <= 0 || stream.state() == Http2Stream.State.CLOSED || !ctx.channel().isActive()) {
            return; // a closed stream's unconsumed bytes went back to the connection window when it closed
        }
        try {
            connection().local().flowController().consumeBytes(stream, bytes);
            front.markDirty(this);
        } catch (Http2Exception e) {
            onError(ctx, false, e);
        }
    }

    boolean markDirty() {
        boolean was = dirty;
        dirty = true;
        return !was;
    }

    void flushNow() {
        dirty = false;
        if (ctx != null && ctx.channel().isActive()) {
            flush(ctx);
        }
    }

    // ---- channel events ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx); // sends the preface
        connection().local().flowController().incrementWindowSize(connection().connectionStream(),
                CONNECTION_WINDOW - Http2CodecDefaults.WINDOW);
        front.markDirty(this);
        if (backend != null) {
            backend.linkActive(this);
        } else {
            front.clientConnected(this);
        }
    }

    /**
     * The frames relayed from this read leave first, then this connection's own (PING and SETTINGS
     * acknowledgements): grpc-go sends a BDP PING with nearly every response, and acknowledging it
     * first put a write and a wake-up of the runtime before the answer to kubelet.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        front.readComplete();
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            super.channelInactive(ctx); // closes the open streams: their relays end the other side
        } finally {
            if (backend != null) {
                backend.linkInactive(this);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        log.atDebug().setCause(cause).addKeyValue("side", backend == null ? "client" : backend.toString())
                .log("HTTP/2 connection error");
        failure = cause;
        super.exceptionCaught(ctx, cause);
    }

    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
            Http2Exception http2Ex) {
        failure = cause;
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    /** Why the connection failed, if it did: what the operator sees when a backend connection is lost. */
    String failure() {
        return failure == null ? "closed by the peer" : String.valueOf(failure);
    }

    // ---- frames ----

    private FrameRelay relay(int streamId) {
        Http2Stream s = connection().stream(streamId);
        return s == null ? null : s.getProperty(relayKey);
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        FrameRelay r = relay(streamId);
        int unread = r == null ? data.readableBytes() : r.data(this, data, endOfStream);
        return unread + padding;
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) {
        FrameRelay r = relay(streamId);
        if (r != null) {
            r.headers(this, headers, endOfStream);
        } else if (backend == null) {
            Http2Stream s = connection().stream(streamId);
            if (s != null) {
                front.newCall(this, s, headers, endOfStream);
            }
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        FrameRelay r = relay(streamId);
        if (r != null) {
            r.reset(this, errorCode);
        }
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        if (backend != null) {
            log.atDebug().addKeyValue("backend", backend).addKeyValue("last_stream", lastStreamId)
                    .addKeyValue("error_code", errorCode).log("backend sent GOAWAY; new calls use a new connection");
            retire();
            backend.linkRetired(this);
        }
    }

    @Override
    public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
            boolean exclusive) {
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
    }

    @Override
    public void onPingRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers,
            int padding) throws Http2Exception {
        throw Http2Exception.connectionError(io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR,
                "push promise on a gRPC connection");
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
    }

    @Override
    public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
            ByteBuf payload) {
    }

    /** Netty's defaults the windows are computed from. */
    private static final class Http2CodecDefaults {
        static final int WINDOW = io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2CodecUtil.DEFAULT_WINDOW_SIZE;
    }

    /** Builds a link with its settings and itself as the frame listener. */
    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<FrameLink, Builder> {
        private final FrameFront front;
        private final FrameBackend backend;

        Builder(FrameFront front, FrameBackend backend, boolean server, long gracefulShutdownMillis) {
            this.front = front;
            this.backend = backend;
            Http2Settings s = new Http2Settings().initialWindowSize(STREAM_WINDOW).maxHeaderListSize(MAX_HEADER_LIST);
            if (!server) {
                s.pushEnabled(false);
            }
            initialSettings(s);
            server(server);
            // No rapid-reset limits (Netty's server default: a connection that sends or receives
            // more than 200 RST_STREAM in 30 s is closed): the peers are kubelet on a 0660 socket and
            // the runtime, and a proxy must not cut kubelet off because the runtime refused or the
            // kubelet cancelled many calls, which the gRPC server never did either.
            decoderEnforceMaxRstFramesPerWindow(0, 0);
            encoderEnforceMaxRstFramesPerWindow(0, 0);
            gracefulShutdownTimeoutMillis(gracefulShutdownMillis);
        }

        @Override
        protected FrameLink build() {
            return super.build();
        }

        @Override
        protected FrameLink build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                Http2Settings initialSettings) {
            FrameLink link = new FrameLink(decoder, encoder, initialSettings, front, backend);
            frameListener(link);
            return link;
        }
    }
}
