// aspider-notify.groovy: tell `aspider serve` that a session was archived.
//
// An XNAT automation script (Administer > Automation > Scripts, language Groovy), bound by an
// event handler (site-wide or per project) to the "Transferred" event, which XNAT fires when a
// session moves from the prearchive into the archive. XNAT runs it with these variables bound:
// externalId (the project), dataId (the experiment ID), dataType, user, event, scriptId.
//
// The token is read from a file on the XNAT host that only the XNAT (Tomcat) user can read, so
// it is neither in this script nor in XNAT's database. A failure here never fails the archive:
// it is logged, and aspider's own poll of last_modified finds the session within a minute.

import java.net.HttpURLConnection
import java.net.URL

def ASPIDER_URL = "http://aspider.example.org:8080"   // where `aspider serve` listens
def TOKEN_FILE = "/data/xnat/home/config/aspider.token"

def xnatId = ~/[A-Za-z0-9_-]{1,255}/
def project = externalId?.toString()
def session = dataId?.toString()
if (project == null || session == null || !(project ==~ xnatId) || !(session ==~ xnatId)) {
    println "aspider-notify: not an XNAT ID (project ${project}, session ${session}); nothing sent"
    return
}
try {
    def token = new File(TOKEN_FILE).text.trim()
    def url = new URL("${ASPIDER_URL}/api/v1/projects/${project}/sessions/${session}")
    HttpURLConnection http = (HttpURLConnection) url.openConnection()
    http.requestMethod = "POST"
    http.connectTimeout = 5000
    http.readTimeout = 10000
    http.doOutput = true
    http.setRequestProperty("Authorization", "Bearer " + token)
    http.setRequestProperty("Content-Type", "application/json")
    http.outputStream.withWriter("UTF-8") { it << '{"event": "' + (event ?: "archived") + '"}' }
    def code = http.responseCode
    println "aspider-notify: POST ${url.path} answered ${code}"
    http.disconnect()
} catch (Exception e) {
    println "aspider-notify: could not reach aspider (${e.class.simpleName}: ${e.message}); " +
            "its poll of last_modified will find the session"
}
