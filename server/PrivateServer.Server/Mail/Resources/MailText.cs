namespace PrivateServer.Server.Mail.Resources;

/// <summary>Marker for the mail texts (<c>MailText.resx</c>, <c>MailText.de.resx</c>).</summary>
public sealed class MailText
{
    private MailText()
    {
    }
}
