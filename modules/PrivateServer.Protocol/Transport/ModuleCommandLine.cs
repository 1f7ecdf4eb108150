using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Protocol.Transport;

/// <summary>What both module programs share on the command line: parsing the common arguments and the one-line failure.</summary>
public static class ModuleCommandLine
{
    /// <summary>Runs a verb: expected failures become "PROGRAM: message" on stderr and exit code 1.</summary>
    public static async Task<int> RunAsync(string program, TextWriter error, Func<Task<int>> verb)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(verb);
        try
        {
            return await verb();
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException or CryptographicException
            or WebSocketException or AuthenticationException or ControlProtocolException or ModuleStateException or TimeoutException)
        {
            await error.WriteLineAsync($"{program}: {OneLine(ex.Message)}");
            return 1;
        }
    }

    public static CaPin ParsePin(string? text) =>
        CaPin.TryParse(text, out var pin, out var error) ? pin! : throw new ArgumentException("--ca-fingerprint: " + error);

    public static string OneLine(string text) =>
        string.Join(' ', (text ?? string.Empty).Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A module's saved state is missing or unusable (not enrolled, not signed in).</summary>
public sealed class ModuleStateException(string message) : Exception(message);
