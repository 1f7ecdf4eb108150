namespace PrivateServer.Protocol.Sessions;

/// <summary>
/// An ad-hoc session code: exactly eight decimal digits (leading zeros are digits too). People may
/// type it with a space or a dash in the middle, as it is shown: <c>0123 4567</c>.
/// </summary>
public static class SessionCode
{
    public const int Digits = 8;

    /// <summary>Accepts 8 digits, optionally split by spaces or dashes; <paramref name="code"/> gets the bare digits.</summary>
    public static bool TryParse(string? text, out string code)
    {
        code = string.Empty;
        if (text is null || text.Length > 2 * Digits)
        {
            return false;
        }

        Span<char> digits = stackalloc char[Digits];
        var count = 0;
        foreach (var c in text.Trim())
        {
            if (c is ' ' or '-')
            {
                continue;
            }

            if (!char.IsAsciiDigit(c) || count == Digits)
            {
                return false;
            }

            digits[count++] = c;
        }

        if (count != Digits)
        {
            return false;
        }

        code = new string(digits);
        return true;
    }

    /// <summary>How a code is shown to people: <c>0123 4567</c>.</summary>
    public static string Format(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return code.Length == Digits ? code[..4] + " " + code[4..] : code;
    }
}
