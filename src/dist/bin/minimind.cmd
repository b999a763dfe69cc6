@echo off
rem minimind4j (downloaded distribution) for Windows: runs `minimind <command> [options]` with the Java in JAVA_HOME or
rem on the PATH. Needs a JDK/JRE 17+ and nothing else: the jar, lib\ and the bundled demo\ sit beside bin\.
setlocal
set "MM_HOME=%~dp0.."
for %%i in ("%MM_HOME%") do set "MM_HOME=%%~fi"
set "MM_JAVA=java"
if defined JAVA_HOME if exist "%JAVA_HOME%\bin\java.exe" set "MM_JAVA=%JAVA_HOME%\bin\java.exe"
rem An older Java would stop with UnsupportedClassVersionError's stack trace; say it in one line instead.
set "MM_TMP=%TEMP%\minimind-java-%RANDOM%%RANDOM%.txt"
"%MM_JAVA%" -XshowSettings:properties -version >nul 2>"%MM_TMP%"
if errorlevel 1 (
  del "%MM_TMP%" >nul 2>&1
  echo minimind: no java found: install a JDK 17 or newer ^(e.g. Eclipse Temurin^) or set JAVA_HOME 1>&2
  exit /b 1
)
set "MM_SPEC="
for /f "tokens=2 delims==" %%v in ('findstr /c:"java.specification.version" "%MM_TMP%"') do set "MM_SPEC=%%v"
del "%MM_TMP%" >nul 2>&1
if defined MM_SPEC set "MM_SPEC=%MM_SPEC: =%"
rem a string comparison when not a number: "1.8" LSS "17" too. (No parenthesised block: a Java path may hold a ')'.)
if not defined MM_SPEC goto java_ok
if %MM_SPEC% LSS 17 goto java_old
goto java_ok
:java_old
echo minimind: "%MM_JAVA%" is Java %MM_SPEC%; minimind4j needs Java 17 or newer ^(set JAVA_HOME to one^) 1>&2
exit /b 1
:java_ok
rem Replies are UTF-8 (Chinese text): switch the console to code page 65001 for the run, then restore it.
set "MM_CP="
for /f "tokens=2 delims=:" %%c in ('chcp') do set "MM_CP=%%c"
if defined MM_CP set "MM_CP=%MM_CP: =%"
if defined MM_CP set "MM_CP=%MM_CP:.=%"
chcp 65001 >nul 2>&1
rem The same JVM flags as bin/minimind; --enable-native-access comes from the jar's manifest (Java 22+).
"%MM_JAVA%" -Xss4m "-Dminimind.home=%MM_HOME%" "-Dminimind.command=%~f0" %MINIMIND_JAVA_OPTS% -jar "%MM_HOME%\minimind4j.jar" %*
set "MM_RC=%ERRORLEVEL%"
if defined MM_CP chcp %MM_CP% >nul 2>&1
exit /b %MM_RC%
