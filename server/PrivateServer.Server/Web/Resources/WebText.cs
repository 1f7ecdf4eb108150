namespace PrivateServer.Server.Web.Resources;

/// <summary>Marker for the web console's texts: WebText.resx (English) and WebText.de.resx (German).</summary>
public sealed class WebText
{
    private WebText()
    {
    }
}
