import JOSE
import Testing

@testable import GatewayCore

@Suite("Token service configuration and machine-token routes")
struct TokenServiceConfigTests {
    let route = #"{"path":"/api","upstream":"http://127.0.0.1:9001"}"#

    @Test("auth.token_service: defaults, paths, and its own checks")
    func section() throws {
        let c = try parseConfig(
            #"{"tokens":\#(tokensJSON),"auth":{"token_service":{"clients_file":"clients.json"}},"routes":[\#(route)]}"#)
        let s = try #require(c.auth.tokenService)
        #expect(s.clientsFile == "/etc/gateway/clients.json")
        #expect(s.revocationPath == "/oauth/revoke" && s.introspectionPath == "/oauth/introspect" && s.metadata)
        #expect(try parseConfig(#"{"tokens":\#(tokensJSON),"routes":[\#(route)]}"#).auth.tokenService == nil)
        func issues(_ ts: String) -> [ConfigError.Issue] {
            configIssues(#"{"tokens":\#(tokensJSON),"auth":{"token_service":\#(ts)},"routes":[\#(route)]}"#)
        }
        #expect(has(issues(#"{}"#), "auth.token_service.introspection_path", "clients_file"))
        #expect(has(issues(#"{"introspection_path":null,"revocation_path":"/oauth/token"}"#), "auth", "must differ"))
        #expect(has(issues(#"{"introspection_path":null,"metdata":true}"#), "auth.token_service.metdata", "unknown"))
    }

    @Test("routes[].machine_tokens: allow by default, require, refuse; anything else is an error")
    func routeField() throws {
        let c = try parseConfig(
            #"{"tokens":\#(tokensJSON),"routes":[\#(route),{"path":"/m","upstream":"http://127.0.0.1:9001","machine_tokens":"require"}]}"#
        )
        #expect(c.routes[0].machineTokens == .allow && c.routes[1].machineTokens == .require)
        let bad = configIssues(
            #"{"tokens":\#(tokensJSON),"routes":[{"path":"/m","upstream":"http://127.0.0.1:9001","machine_tokens":"yes"}]}"#
        )
        #expect(has(bad, "routes[0].machine_tokens", "allow, require or refuse"))
    }

    @Test("a machine token is a client_id without a session; the route policy answers 403 for the wrong kind")
    func policy() throws {
        let machine = AccessGrant(
            try ClaimsScanner.scan(Array(#"{"sub":"job","client_id":"job"}"#.utf8)), names: IdentityHeaderNames())
        let user = AccessGrant(
            try ClaimsScanner.scan(Array(#"{"sub":"alice","sid":"s1"}"#.utf8)), names: IdentityHeaderNames())
        let both = AccessGrant(
            try ClaimsScanner.scan(Array(#"{"sub":"alice","sid":"s1","client_id":"app"}"#.utf8)),
            names: IdentityHeaderNames())
        #expect(machine.machine && !user.machine && !both.machine)
        var r = try parseConfig(#"{"tokens":\#(tokensJSON),"routes":[\#(route)]}"#).routes[0]
        var failure: String?
        for (mode, grant, denied) in [
            (MachineTokens.allow, machine, false), (.allow, user, false), (.require, machine, false),
            (.require, user, true), (.refuse, user, false), (.refuse, machine, true),
        ] {
            r.machineTokens = mode
            failure = nil
            let answer = MachineTokenPolicy.check(r, grant, realm: "t", failure: &failure)
            #expect((answer != nil) == denied, "\(mode)")
            if let answer {
                #expect(answer.status == 403 && failure == "token_kind")
            }
        }
    }
}
