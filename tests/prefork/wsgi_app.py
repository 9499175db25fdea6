# A tiny WSGI application for tests/prefork/gunicorn.sh: answers with the
# address gunicorn's sync worker got from accept().
def app(environ, start_response):
    body = ("client %s %s\n" % (environ.get("REMOTE_ADDR"),
                                environ.get("REMOTE_PORT"))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
