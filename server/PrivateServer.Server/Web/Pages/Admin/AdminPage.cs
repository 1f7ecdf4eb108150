using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>What every admin page shows after a change: what was done, or the one line saying what was wrong (nothing changed then).</summary>
public abstract class AdminPage : PageModel
{
    /// <summary>A resource key of what was done, with its argument.</summary>
    public (string Key, string Argument)? Done { get; protected set; }

    /// <summary>Why a change was refused (the administration's own line).</summary>
    public string? Refusal { get; protected set; }

    /// <summary>A secret shown once (a generated password, an enrolment token).</summary>
    public string? Secret { get; protected set; }

    protected bool Apply<T>(AdminOutcome<T> outcome, string doneKey, string argument)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Failure is { } failure)
        {
            Refusal = failure.Message;
            Response.StatusCode = failure.Kind == AdminFailureKind.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            return false;
        }

        Done = (doneKey, argument);
        return true;
    }
}
