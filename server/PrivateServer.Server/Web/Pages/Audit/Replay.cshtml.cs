using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Recording;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>Replays a screen recording in the browser: noVNC fed from the file, with play/pause, speed and seeking.</summary>
public sealed class AuditReplayModel(ScreenRecordings recordings) : PageModel
{
    [BindProperty(Name = "file", SupportsGet = true)]
    public string? Recording { get; set; }

    public IActionResult OnGet() => recordings.Find(Recording) is null ? NotFound() : Page();
}
