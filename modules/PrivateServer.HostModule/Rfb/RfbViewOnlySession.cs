namespace PrivateServer.HostModule.Rfb;

/// <summary>
/// What the two halves of one view-only RFB relay tell each other: the client's protocol version and security type (so the
/// server half knows which handshake answers come) and the pixel size of framebuffer updates (so it can find where each ends).
/// Each value is written before the bytes it describes go out, so the other half reads it before the answer can arrive.
/// </summary>
internal sealed class RfbViewOnlySession
{
    private int _minorVersion;
    private int _securityType;
    private int _serverBytesPerPixel;
    private int _clientBytesPerPixel;
    private int _updatesAsked;

    /// <summary>7 or 8: the RFB 3.x version the client chose; 0 before it did.</summary>
    public int MinorVersion { get => Volatile.Read(ref _minorVersion); set => Volatile.Write(ref _minorVersion, value); }

    /// <summary>1 (None) or 2 (VNC authentication): what the client chose; 0 before it did.</summary>
    public int SecurityType { get => Volatile.Read(ref _securityType); set => Volatile.Write(ref _securityType, value); }

    /// <summary>Bytes per pixel of the server's own format (ServerInit).</summary>
    public int ServerBytesPerPixel { get => Volatile.Read(ref _serverBytesPerPixel); set => Volatile.Write(ref _serverBytesPerPixel, value); }

    /// <summary>Bytes per pixel the client asked for (SetPixelFormat); 0 while it has not.</summary>
    public int ClientBytesPerPixel { get => Volatile.Read(ref _clientBytesPerPixel); set => Volatile.Write(ref _clientBytesPerPixel, value); }

    /// <summary>
    /// Bytes per pixel in framebuffer updates. The server reads client messages only after ServerInit and in order, and sends
    /// updates only when asked: the client's SetPixelFormat before its first request decides, else the server's format.
    /// </summary>
    public int BytesPerPixel => ClientBytesPerPixel is var client and > 0 ? client : ServerBytesPerPixel;

    /// <summary>The client has asked for an update (or continuous updates): from then on the pixel format may not change.</summary>
    public bool UpdatesAsked { get => Volatile.Read(ref _updatesAsked) != 0; set => Volatile.Write(ref _updatesAsked, value ? 1 : 0); }

    /// <summary>
    /// The encodings whose rectangles the server half can measure: Raw, CopyRect, RRE, Hextile, zlib, ZRLE and the
    /// pseudo-encodings DesktopSize, LastRect, PointerPos, Cursor, XCursor, DesktopName, ExtendedDesktopSize, QEMU pointer
    /// motion and key events, Fence, ContinuousUpdates, and the compression, quality and JPEG levels (which never send a
    /// rectangle). Tight, the extended clipboard and anything unknown are left out.
    /// </summary>
    public static bool CanParse(int encoding) => encoding switch
    {
        0 or 1 or 2 or 5 or 6 or 16 => true,
        -223 or -224 or -232 or -239 or -240 or -257 or -258 or -307 or -308 or -312 or -313 => true,
        >= -32 and <= -23 => true, // quality level
        >= -256 and <= -247 => true, // compression level
        >= -512 and <= -413 => true, // fine quality level
        >= -768 and <= -763 => true, // subsampling level
        _ => false,
    };
}
