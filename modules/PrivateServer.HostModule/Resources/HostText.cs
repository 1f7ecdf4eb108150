using System.Globalization;
using System.Resources;

namespace PrivateServer.HostModule.Resources;

/// <summary>What the host module says to its user, in English (HostText.resx) or German (HostText.de.resx) by the UI culture.</summary>
internal static class HostText
{
    private static readonly ResourceManager Texts = new("PrivateServer.HostModule.Resources.HostText", typeof(HostText).Assembly);

    public static string ConsentQuestion(object? supporter, object? rights) => Format(nameof(ConsentQuestion), supporter, rights);

    public static string MoreRightsQuestion(object? session, object? supporter, object? rights) => Format(nameof(MoreRightsQuestion), session, supporter, rights);

    public static string MoreRightsAllowedByPolicy(object? session, object? supporter, object? rights) => Format(nameof(MoreRightsAllowedByPolicy), session, supporter, rights);

    public static string MoreRightsGranted(object? session, object? supporter, object? rights) => Format(nameof(MoreRightsGranted), session, supporter, rights);

    public static string ConsentHint => Get(nameof(ConsentHint));

    public static string AllowedByPolicy(object? supporter, object? rights) => Format(nameof(AllowedByPolicy), supporter, rights);

    public static string SessionBanner(object? session, object? supporter, object? rights) => Format(nameof(SessionBanner), session, supporter, rights);

    public static string SessionEnded(object? session, object? supporter, object? reason) => Format(nameof(SessionEnded), session, supporter, reason);

    public static string StoppedSessions(object? count) => Format(nameof(StoppedSessions), count);

    public static string NoSessionRunning => Get(nameof(NoSessionRunning));

    public static string ServerSays(object? message) => Format(nameof(ServerSays), message);

    public static string ViewOnlyClosed(object? problem) => Format(nameof(ViewOnlyClosed), problem);

    public static string TypeStop => Get(nameof(TypeStop));

    public static string NoInput => Get(nameof(NoInput));

    public static string NoAnswer => Get(nameof(NoAnswer));

    public static string Refused => Get(nameof(Refused));

    public static string RightView => Get(nameof(RightView));

    public static string RightControl => Get(nameof(RightControl));

    public static string RightTunnel(object? service) => Format(nameof(RightTunnel), service);

    public static string RightFiles(object? folder) => Format(nameof(RightFiles), folder);

    public static string RightSystemInfo => Get(nameof(RightSystemInfo));

    public static string RightChat => Get(nameof(RightChat));

    public static string RightScripts => Get(nameof(RightScripts));

    public static string ScriptQuestion(object? supporter, object? name, object? shell) => Format(nameof(ScriptQuestion), supporter, name, shell);

    public static string ScriptAllowQuestion => Get(nameof(ScriptAllowQuestion));

    public static string ScriptAllowedByPolicy(object? supporter, object? name, object? shell) => Format(nameof(ScriptAllowedByPolicy), supporter, name, shell);

    public static string ScriptDone(object? name, object? exitCode) => Format(nameof(ScriptDone), name, exitCode);

    public static string ScriptNotRun(object? name, object? why) => Format(nameof(ScriptNotRun), name, why);

    public static string ScriptTimedOut(object? name, object? seconds) => Format(nameof(ScriptTimedOut), name, seconds);

    public static string ChatHint => Get(nameof(ChatHint));

    public static string ChatFrom(object? from, object? text) => Format(nameof(ChatFrom), from, text);

    public static string SystemInfoSent => Get(nameof(SystemInfoSent));

    public static string FileReceived(object? path, object? size) => Format(nameof(FileReceived), path, size);

    public static string FileSent(object? path, object? size) => Format(nameof(FileSent), path, size);

    public static string FileRefused(object? why) => Format(nameof(FileRefused), why);

    public static string TermsHeader => Get(nameof(TermsHeader));

    public static string Online(object? name, object? hostId, object? server, object? offered) => Format(nameof(Online), name, hostId, server, offered);

    public static string Offline(object? problem, object? seconds) => Format(nameof(Offline), problem, seconds);

    public static string NoServices => Get(nameof(NoServices));

    public static string Services(object? names) => Format(nameof(Services), names);

    public static string ScreenService(object? name) => Format(nameof(ScreenService), name);

    public static string JoinedWithCode(object? server, object? supporter, object? until) => Format(nameof(JoinedWithCode), server, supporter, until);

    public static string JoinedWithRequest(object? requestId, object? until) => Format(nameof(JoinedWithRequest), requestId, until);

    public static string Offering(object? offered) => Format(nameof(Offering), offered);

    public static string YouRefused => Get(nameof(YouRefused));

    public static string AdHocEnded => Get(nameof(AdHocEnded));

    public static string NotTaken(object? reason) => Format(nameof(NotTaken), reason);

    public static string Stopped => Get(nameof(Stopped));

    private static string Get(string name) => Texts.GetString(name, CultureInfo.CurrentUICulture) ?? name;

    private static string Format(string name, params object?[] arguments) => string.Format(CultureInfo.CurrentCulture, Get(name), arguments);
}
