using System.ComponentModel.DataAnnotations;

namespace PrivateServer.Appliance.Hosting;

/// <summary>Where the appliance keeps its data and where it listens (section <c>Appliance</c>).</summary>
public sealed class ApplianceOptions
{
    public const string SectionName = "Appliance";

    /// <summary>The data folder (<c>--data</c>); the packages set /var/lib/privateserver.</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>HTTPS addresses to listen on, separated by ';' (<c>--urls</c>).</summary>
    [Required]
    public string Urls { get; set; } = "https://0.0.0.0:443";
}
