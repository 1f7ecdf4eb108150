using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace PrivateServer.Server.Tls;

/// <summary>
/// Lets OpenSSL give back a TLS connection's read and write buffers while the connection is idle
/// (<c>SSL_MODE_RELEASE_BUFFERS</c>, as nginx, HAProxy and dnsdist set it): OpenSSL allocates them
/// — ~17 KiB each — during the handshake and otherwise keeps them for the connection's life. On
/// an appliance with thousands of idle hosts they were most of the memory per host (heaptrack, 3,000
/// idle hosts: 34 KiB of the ~55 KiB per host); with the mode OpenSSL frees them when they are
/// empty and takes them again for the next record. Used on host channels only: the malloc and free
/// around every record cost idle CPU (3,000 idle hosts: ~1.2× the server's CPU for heartbeats) and a
/// relay or browser connection is not idle for long.
/// </summary>
/// <remarks>
/// .NET does not expose the mode, nor the connection's <c>SSL*</c>: this reads the handle from
/// <see cref="SslStream"/>'s private security context (its field on .NET 10, Linux) and sets the mode
/// through the same OpenSSL 3 library .NET loaded. Anything unexpected — another platform, another
/// OpenSSL major version than this process's, a runtime whose field is gone — leaves the connection
/// as it is (<see cref="TryRelease"/> answers false; a unit test fails on such a runtime, so an
/// upgrade cannot lose it unnoticed). Must run before the stream's first read or write after the
/// handshake (no OpenSSL call on the connection at the same time).
/// </remarks>
internal static partial class IdleTlsBuffers
{
    private const int ControlMode = 33; // SSL_CTRL_MODE: SSL_set_mode / SSL_get_mode are macros over SSL_ctrl
    private const nint ReleaseBuffersMode = 0x10; // SSL_MODE_RELEASE_BUFFERS
    private const string Library = "libssl.so.3";

    private static readonly FieldInfo? SecurityContextField =
        typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Whether this process's .NET uses OpenSSL 3, the library <see cref="Library"/> names.</summary>
    private static readonly bool UsesOpenSsl3 = OperatingSystem.IsLinux() && OpenSsl3Loaded();

    [LibraryImport("libcrypto.so.3", EntryPoint = "OpenSSL_version_num")]
    private static partial nuint OpenSslVersionNumber();

    [LibraryImport(Library, EntryPoint = "SSL_ctrl")]
    private static partial nint SslControl(nint ssl, int command, nint larg, nint parg);

    /// <summary>Sets <c>SSL_MODE_RELEASE_BUFFERS</c> on <paramref name="stream"/>'s connection; false where that cannot be done.</summary>
    public static bool TryRelease(SslStream stream) => TryControl(stream, ReleaseBuffersMode, out _);

    /// <summary>The connection's OpenSSL mode bits (<c>SSL_get_mode</c>), for tests; null where the handle cannot be had.</summary>
    internal static long? Mode(SslStream stream) => TryControl(stream, 0, out var mode) ? mode : null;

    private static bool TryControl(SslStream stream, nint addMode, out long mode)
    {
        ArgumentNullException.ThrowIfNull(stream);
        mode = 0;
        if (!UsesOpenSsl3 || SecurityContextField?.GetValue(stream) is not SafeHandle context)
        {
            return false;
        }

        var added = false;
        try
        {
            context.DangerousAddRef(ref added);
            var ssl = context.DangerousGetHandle();
            if (ssl == IntPtr.Zero)
            {
                return false;
            }

            // SSL_ctrl(SSL_CTRL_MODE, bits) ORs the bits into the mode and returns the new mode; 0 only reads it.
            mode = SslControl(ssl, ControlMode, addMode, IntPtr.Zero);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                context.DangerousRelease();
            }
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static bool OpenSsl3Loaded()
    {
        try
        {
            // OPENSSL_VERSION_NUMBER of the library .NET loaded (0xMNN00PP0L, major version in the top nibble), and the
            // same number from the OpenSSL 3 this process finds by name: the same library, not another copy or version.
            var loaded = SafeEvpPKeyHandle.OpenSslVersion;
            return loaded >> 28 == 3 && (long)OpenSslVersionNumber() == loaded && NativeLibrary.TryLoad(Library, out _);
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return false;
        }
    }
}
